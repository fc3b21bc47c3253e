// --resume end to end, for every strategy (issue 15): a run stopped after an
// epoch and resumed ends with the weights of a run never stopped. With dropout
// on (the default), that needs every rank's random state back, not only rank
// 0's, and the sampler's draws keyed by epoch, not by how many came before.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "test_support/datasets.h"

extern char** environ;

namespace edgegnn {
namespace {

namespace fs = std::filesystem;

using test::CommandResult;

struct ResumeCase {
  std::string strategy;
  std::string flags;  // the strategy's flags; PARTS stands for a partition of synthetic-tiny
  int parts = 0;      // parts of that partition, 0 for none
};

void PrintTo(const ResumeCase& c, std::ostream* out) {
  *out << c.strategy;
  if (!c.flags.empty()) *out << ": " << c.flags;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  return in.good() ? nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false)
                   : nlohmann::json();
}

class StrategyResume : public ::testing::TestWithParam<ResumeCase> {
 protected:
  // The flags of every run of a test: small, one thread, a fixed seed, dropout
  // left at its default (0.5), so a wrong random state shows in the weights.
  std::string run_flags() {
    std::string flags = GetParam().flags;
    if (GetParam().parts > 0) {
      const fs::path parts = test::scratch_dir("parts");
      CommandResult cut = test::run_edgegnn(fmt::format(
          "partition --dataset synthetic-tiny --parts {} --out {}", GetParam().parts,
          parts.string()));
      EXPECT_EQ(cut.exit_code, 0) << cut.output;
      flags.replace(flags.find("PARTS"), 5, parts.string());
    }
    return "--quiet --dataset synthetic-tiny --hidden 16 --fanouts 5,5 --batch-size 32 "
           "--threads 1 --seed 11 " +
           flags;
  }

  // Runs `edgegnn train flags`; false, with a failure, unless it succeeds.
  static bool train(const std::string& flags) {
    CommandResult run = test::run_edgegnn("train " + flags);
    EXPECT_EQ(run.exit_code, 0) << flags << "\n" << run.output;
    return run.exit_code == 0;
  }
};

// Every epoch's loss and training accuracy, the final evaluation and every
// rank's weights of `resumed` are those of `whole`; and so are the bytes of
// model.pt in their checkpoint directories.
void expect_same_run(const nlohmann::json& whole, const nlohmann::json& resumed,
                     const fs::path& whole_checkpoint, const fs::path& resumed_checkpoint) {
  ASSERT_FALSE(whole.is_discarded());
  ASSERT_FALSE(resumed.is_discarded());
  ASSERT_EQ(resumed["epochs"].size(), whole["epochs"].size()) << resumed["epochs"];
  // Epochs that differ: the first in full, then how many.
  int differing = 0;
  for (size_t e = 0; e < whole["epochs"].size(); ++e) {
    const auto& w = whole["epochs"][e];
    const auto& r = resumed["epochs"][e];
    bool same = true;
    for (const char* key : {"loss", "train_acc"})
      same = same && std::abs(r[key].get<double>() - w[key].get<double>()) <= 1e-6;
    if (!same && differing++ == 0)
      ADD_FAILURE() << fmt::format(
          "epoch {} is the first that differs: loss {:.8f} resumed, {:.8f} uninterrupted "
          "({:+.2e}); train_acc {:.6f} resumed, {:.6f} uninterrupted",
          e + 1, r["loss"].get<double>(), w["loss"].get<double>(),
          r["loss"].get<double>() - w["loss"].get<double>(), r["train_acc"].get<double>(),
          w["train_acc"].get<double>());
  }
  EXPECT_EQ(differing, 0) << "epochs whose loss or train_acc differ by more than 1e-6, of "
                          << whole["epochs"].size();
  for (const char* key : {"last_val_acc", "last_test_acc"})
    EXPECT_NEAR(resumed[key].get<double>(), whole[key].get<double>(), 1e-6) << key;
  ASSERT_EQ(resumed["per_device"].size(), whole["per_device"].size());
  for (size_t k = 0; k < whole["per_device"].size(); ++k) {
    const auto& w = whole["per_device"][k];
    const auto& r = resumed["per_device"][k];
    EXPECT_EQ(r["parameter_checksum"], w["parameter_checksum"])
        << fmt::format("rank {} ({}): parameter checksum resumed − uninterrupted {:+.3e}",
                       w["rank"].get<int>(), w["role"].get<std::string>(),
                       r["parameter_checksum"].get<double>() -
                           w["parameter_checksum"].get<double>());
  }
  // model.pt holds the weights alone, written the same way each time (a test
  // below checks that two identical runs write identical bytes).
  const std::string whole_model = read_bytes(whole_checkpoint / "model.pt");
  ASSERT_FALSE(whole_model.empty()) << whole_checkpoint;
  EXPECT_TRUE(read_bytes(resumed_checkpoint / "model.pt") == whole_model)
      << resumed_checkpoint / "model.pt" << " differs from " << whole_checkpoint / "model.pt";
}

TEST_P(StrategyResume, ResumingAfterEpochOneEndsWithTheUninterruptedWeights) {
  const std::string flags = run_flags();
  const fs::path dir = test::scratch_dir("resume");
  const fs::path whole_checkpoint = dir / "whole";
  const fs::path resumed_checkpoint = dir / "resumed";

  ASSERT_TRUE(train(fmt::format("{} --epochs 2 --checkpoint {} --metrics-out {}", flags,
                                whole_checkpoint.string(), (dir / "whole.json").string())));
  ASSERT_TRUE(train(fmt::format("{} --epochs 1 --checkpoint {}", flags, resumed_checkpoint.string())));
  ASSERT_EQ(read_json(resumed_checkpoint / "checkpoint.json")["epoch"], 1);
  ASSERT_TRUE(train(fmt::format("{} --epochs 2 --checkpoint {} --resume --metrics-out {}", flags,
                                resumed_checkpoint.string(), (dir / "resumed.json").string())));

  expect_same_run(read_json(dir / "whole.json"), read_json(dir / "resumed.json"),
                  whole_checkpoint, resumed_checkpoint);
}

// The epoch `checkpoint.json` in `dir` names, or 0 before the first.
int64_t checkpoint_epoch(const fs::path& dir) {
  const nlohmann::json meta = read_json(dir / "checkpoint.json");
  return meta.is_object() ? meta.value("epoch", int64_t{0}) : 0;
}

struct KilledRun {
  bool killed = false;    // false: it ended on its own first
  int status = 0;         // waitpid's
  std::string output;
};

// Starts `edgegnn train args` and SIGKILLs it as soon as `checkpoint` holds
// the checkpoint of an epoch: polled, not timed, so the kill lands after epoch
// 1's checkpoint whatever the machine's load. A launcher's workers die with it
// (PR_SET_PDEATHSIG).
KilledRun kill_after_first_checkpoint(const std::string& args, const fs::path& checkpoint,
                                      const fs::path& log) {
  const std::string command = test::edgegnn_binary() + " train " + args + " > " + log.string() +
                              " 2>&1";
  const std::string exec = "exec " + command;
  const char* argv[] = {"/bin/sh", "-c", exec.c_str(), nullptr};
  pid_t pid = 0;
  KilledRun run;
  if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) {
    ADD_FAILURE() << "cannot start " << command;
    return run;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  for (;;) {
    if (checkpoint_epoch(checkpoint) >= 1) {
      ::kill(pid, SIGKILL);
      run.killed = true;
      break;
    }
    if (::waitpid(pid, &run.status, WNOHANG) == pid) {
      run.output = read_bytes(log);
      return run;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ADD_FAILURE() << "no checkpoint after 2 minutes: " << command;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::waitpid(pid, &run.status, 0);
  run.output = read_bytes(log);
  return run;
}

TEST_P(StrategyResume, ResumingAKilledRunEndsWithTheUninterruptedWeights) {
  // Enough epochs that the kill lands mid-run: a synthetic-tiny epoch takes
  // 4 ms (single) to 20 ms (two ranks), the kill a poll (2 ms) after the
  // first checkpoint appears; the test fails if the run had ended.
  constexpr int kEpochs = 20;
  const std::string flags = fmt::format("{} --epochs {} --eval-every 0", run_flags(), kEpochs);
  const fs::path dir = test::scratch_dir("killed");
  const fs::path whole_checkpoint = dir / "whole";
  const fs::path resumed_checkpoint = dir / "resumed";

  ASSERT_TRUE(train(fmt::format("{} --checkpoint {} --metrics-out {}", flags,
                                whole_checkpoint.string(), (dir / "whole.json").string())));
  const KilledRun killed = kill_after_first_checkpoint(
      fmt::format("{} --checkpoint {}", flags, resumed_checkpoint.string()), resumed_checkpoint,
      dir / "killed.log");
  ASSERT_TRUE(killed.killed) << "the run ended before its first checkpoint was seen (status "
                             << killed.status << ")\n" << killed.output;
  const int64_t epoch = checkpoint_epoch(resumed_checkpoint);
  ASSERT_GE(epoch, 1);
  ASSERT_LT(epoch, kEpochs) << "the run had finished before the kill";
  std::cout << fmt::format("[ killed   ] {} after the checkpoint of epoch {} of {}\n",
                           GetParam().strategy, epoch, kEpochs);
  ASSERT_TRUE(train(fmt::format("{} --checkpoint {} --resume --metrics-out {}", flags,
                                resumed_checkpoint.string(), (dir / "resumed.json").string())));

  expect_same_run(read_json(dir / "whole.json"), read_json(dir / "resumed.json"),
                  whole_checkpoint, resumed_checkpoint);
}

INSTANTIATE_TEST_SUITE_P(
    Tiny, StrategyResume,
    ::testing::Values(ResumeCase{"single", ""},
                      ResumeCase{"data", "--strategy data --devices 2"},
                      ResumeCase{"pipeline", "--strategy pipeline --devices 3"},
                      ResumeCase{"partition", "--strategy partition --devices 2 --root PARTS", 2}),
    [](const ::testing::TestParamInfo<ResumeCase>& info) { return info.param.strategy; });

// What the comparisons above rest on: model.pt is a function of the weights
// alone, so two identical runs write identical bytes.
TEST(ResumeCli, IdenticalRunsWriteIdenticalModelFiles) {
  const fs::path dir = test::scratch_dir("twice");
  const std::string flags =
      "--quiet --dataset synthetic-tiny --hidden 16 --fanouts 5,5 --batch-size 32 --threads 1 "
      "--seed 11 --epochs 1 --checkpoint ";
  for (const char* name : {"a", "b"}) {
    CommandResult run = test::run_edgegnn("train " + flags + (dir / name).string());
    ASSERT_EQ(run.exit_code, 0) << run.output;
  }
  const std::string a = read_bytes(dir / "a" / "model.pt");
  ASSERT_GT(a.size(), 1000u);
  EXPECT_TRUE(read_bytes(dir / "b" / "model.pt") == a);
}

}  // namespace
}  // namespace edgegnn
