#include "runtime/checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "test_support/datasets.h"
#include "test_support/errors.h"

namespace edgegnn::runtime {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFiles[] = {"checkpoint.pt", "model.pt", "checkpoint.json"};

std::string bytes_of(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

std::map<std::string, std::string> files_of(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::directory_iterator(dir))
    files[entry.path().filename()] = bytes_of(entry.path());
  return files;
}

torch::nn::Linear seeded_linear(uint64_t seed) {
  torch::manual_seed(seed);
  return torch::nn::Linear(3, 2);
}

// A linear model with an Adam step behind it, so the optimizer has state.
struct Trained {
  torch::nn::Linear model;
  torch::optim::Adam adam;
  explicit Trained(uint64_t seed)
      : model(seeded_linear(seed)),
        adam(model->parameters(), torch::optim::AdamOptions(/*lr=*/0.1)) {
    step();
  }
  // One Adam step on a fixed input.
  void step() {
    adam.zero_grad();
    model->forward(torch::ones({4, 3})).pow(2).sum().backward();
    adam.step();
  }
};

void expect_same_parameters(const torch::nn::Module& a, const torch::nn::Module& b) {
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& item : pa) EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
}

TEST(Checkpoint, RoundTripsTheModelTheAdamStateTheRngAndTheDescription) {
  const auto dir = test::scratch_dir("ckpt");
  Trained saved(/*seed=*/1);
  save_checkpoint(dir, *saved.model, saved.adam, {{"epoch", 3}, {"dataset", "cora"}});
  const torch::Tensor draw = torch::rand({5});

  Trained loaded(/*seed=*/2);
  ASSERT_FALSE(torch::equal(loaded.model->weight, saved.model->weight));
  load_checkpoint(dir, *loaded.model, &loaded.adam);
  expect_same_parameters(*loaded.model, *saved.model);
  // The generator is back where the save left it.
  EXPECT_TRUE(torch::equal(torch::rand({5}), draw));
  // Adam's moments came back too: the same step gives the same weights, where
  // a fresh Adam would step differently.
  saved.step();
  loaded.step();
  expect_same_parameters(*loaded.model, *saved.model);

  const nlohmann::json meta = read_checkpoint_meta(dir);
  EXPECT_EQ(meta.at("epoch"), 3);
  EXPECT_EQ(meta.at("dataset"), "cora");
  EXPECT_EQ(meta.at("magic"), kCheckpointMagic);
  EXPECT_EQ(meta.at("format_version"), kCheckpointVersion);
  EXPECT_EQ(nlohmann::json::parse(bytes_of(dir / "checkpoint.json")), meta);
}

TEST(Checkpoint, ModelPtIsAStateDictOfTheWeights) {
  const auto dir = test::scratch_dir("ckpt");
  Trained saved(/*seed=*/1);
  save_checkpoint(dir, *saved.model, saved.adam, {});
  const std::string bytes = bytes_of(dir / "model.pt");
  const auto dict =
      torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end())).toGenericDict();
  EXPECT_EQ(dict.size(), 2u);
  EXPECT_TRUE(torch::equal(dict.at("weight").toTensor(), saved.model->weight));
  EXPECT_TRUE(torch::equal(dict.at("bias").toTensor(), saved.model->bias));
}

// A save that fails while writing any one of its files, as on a full disk
// (the file's temporary name leads to /dev/full).
class FailedSave : public ::testing::TestWithParam<const char*> {};

TEST_P(FailedSave, LeavesThePreviousCheckpointWhole) {
  const auto dir = test::scratch_dir("ckpt");
  Trained run(/*seed=*/1);
  save_checkpoint(dir, *run.model, run.adam, {{"epoch", 1}});
  const auto before = files_of(dir);
  ASSERT_EQ(before.size(), 3u);

  run.step();
  const fs::path tmp = dir / (std::string(GetParam()) + ".tmp");
  fs::create_symlink("/dev/full", tmp);
  const std::string error = test::error_of([&] {
    save_checkpoint(dir, *run.model, run.adam, {{"epoch", 2}});
  });
  EXPECT_EQ(error.rfind(tmp.string() + ": cannot write: No space left on device", 0), 0u) << error;
  // Nothing replaced, and no temporary file left behind.
  EXPECT_EQ(files_of(dir), before);
  EXPECT_EQ(read_checkpoint_meta(dir).at("epoch"), 1);

  save_checkpoint(dir, *run.model, run.adam, {{"epoch", 2}});
  EXPECT_EQ(read_checkpoint_meta(dir).at("epoch"), 2);
}

INSTANTIATE_TEST_SUITE_P(Checkpoint, FailedSave, ::testing::ValuesIn(kFiles), [](const auto& info) {
  std::string name = info.param;
  return name.replace(name.find('.'), 1, "_");
});

// Writes a checkpoint.pt holding only the description `meta`.
void write_description(const fs::path& dir, const nlohmann::json& meta) {
  torch::serialize::OutputArchive archive;
  archive.write("meta", c10::IValue(meta.dump()));
  archive.save_to((dir / "checkpoint.pt").string());
}

TEST(Checkpoint, AMissingCorruptOrForeignCheckpointIsAOneLineErrorNamingTheFile) {
  const auto dir = test::scratch_dir("ckpt");
  const std::string file = (dir / "checkpoint.pt").string();
  auto meta_error = [&] { return test::error_of([&] { read_checkpoint_meta(dir); }); };
  std::vector<std::string> errors;

  errors.push_back(meta_error());
  EXPECT_EQ(errors.back(), "--checkpoint: " + dir.string() + " has no checkpoint.pt");

  Trained run(/*seed=*/1);
  save_checkpoint(dir, *run.model, run.adam, {});
  const std::string whole = bytes_of(file);
  std::ofstream(file, std::ios::binary | std::ios::trunc) << whole.substr(0, whole.size() / 2);
  errors.push_back(meta_error());
  EXPECT_EQ(errors.back().rfind(file + ": not a readable checkpoint: ", 0), 0u) << errors.back();
  Trained other(/*seed=*/2);
  errors.push_back(test::error_of([&] { load_checkpoint(dir, *other.model, &other.adam); }));
  EXPECT_EQ(errors.back().rfind(file + ": not a readable checkpoint: ", 0), 0u) << errors.back();

  write_description(dir, {{"magic", "someone-else"}});
  errors.push_back(meta_error());
  EXPECT_EQ(errors.back(), file + ": not an edgegnn checkpoint");

  write_description(dir, {{"magic", kCheckpointMagic}, {"format_version", 99}});
  errors.push_back(meta_error());
  EXPECT_EQ(errors.back(), file + ": checkpoint format version 99, this edgegnn reads version 1");

  for (const std::string& error : errors) EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

TEST(Checkpoint, AModelOfAnotherShapeIsRefusedNamingTheParameter) {
  const auto dir = test::scratch_dir("ckpt");
  Trained run(/*seed=*/1);
  save_checkpoint(dir, *run.model, run.adam, {});
  torch::nn::Linear wider(3, 4);
  EXPECT_EQ(test::error_of([&] { load_checkpoint(dir, *wider, nullptr); }),
            (dir / "checkpoint.pt").string() + ": parameter 'weight' has shape 2x3, the model 4x3");
}

}  // namespace
}  // namespace edgegnn::runtime
