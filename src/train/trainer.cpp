#include "train/trainer.h"

#include <malloc.h>

#include <chrono>
#include <fstream>

#include <fmt/format.h>

#include "runtime/checkpoint.h"

namespace edgegnn::train {
namespace {

using Clock = std::chrono::steady_clock;

nlohmann::json epoch_json(const EpochRecord& e) {
  nlohmann::json j = {{"epoch", e.epoch},
                      {"loss", e.stats.loss},
                      {"train_acc", e.stats.train_acc},
                      {"val_acc", nullptr},
                      {"test_acc", nullptr},
                      {"seconds", e.seconds},
                      {"train_seconds", e.seconds - e.eval_seconds},
                      {"eval_seconds", e.eval_seconds},
                      {"steps", e.stats.num_steps},
                      {"sample_seconds", e.stats.sample_seconds},
                      {"wait_seconds", e.stats.wait_seconds},
                      {"gather_seconds", e.stats.gather_seconds},
                      {"compute_seconds", e.stats.compute_seconds},
                      {"slowest_compute_seconds", e.stats.slowest_compute_seconds},
                      {"sync_seconds", e.stats.sync_seconds},
                      {"optimizer_seconds", e.stats.optimizer_seconds},
                      {"transfer_seconds", e.stats.transfer_seconds},
                      {"exposed_comm_seconds", e.stats.exposed_comm_seconds},
                      {"hidden_comm_seconds", e.stats.hidden_comm_seconds}};
  if (e.accuracy) {
    j["val_acc"] = e.accuracy->val;
    j["test_acc"] = e.accuracy->test;
    j["eval_train_acc"] = e.accuracy->train;
  }
  return j;
}

EpochRecord epoch_from_json(const nlohmann::json& j) {
  EpochRecord e;
  e.epoch = j.at("epoch");
  e.stats.loss = j.at("loss");
  e.stats.train_acc = j.at("train_acc");
  e.seconds = j.at("seconds");
  e.eval_seconds = j.value("eval_seconds", 0.0);
  e.stats.num_steps = j.value("steps", int64_t{0});
  for (auto [key, field] : {std::pair{"sample_seconds", &EpochStats::sample_seconds},
                            {"wait_seconds", &EpochStats::wait_seconds},
                            {"gather_seconds", &EpochStats::gather_seconds},
                            {"compute_seconds", &EpochStats::compute_seconds},
                            {"slowest_compute_seconds", &EpochStats::slowest_compute_seconds},
                            {"sync_seconds", &EpochStats::sync_seconds},
                            {"optimizer_seconds", &EpochStats::optimizer_seconds},
                            {"transfer_seconds", &EpochStats::transfer_seconds},
                            {"exposed_comm_seconds", &EpochStats::exposed_comm_seconds},
                            {"hidden_comm_seconds", &EpochStats::hidden_comm_seconds}})
    e.stats.*field = j.value(key, 0.0);
  if (!j.at("val_acc").is_null())
    e.accuracy = Accuracy{j.value("eval_train_acc", 0.0), j.at("val_acc"), j.at("test_acc")};
  return e;
}

// Returns freed heap to the system when there is enough of it to matter: a
// small graph evaluated every epoch (Cora) would otherwise fault its buffers'
// pages in again twice an epoch, 90 % of the system time of its run.
void trim_freed_heap() {
  constexpr size_t kWorthTrimming = size_t{64} << 20;
  if (mallinfo2().fordblks >= kWorthTrimming) malloc_trim(0);
}

}  // namespace

nlohmann::json model_json(const nn::ModelOptions& m) {
  nlohmann::json j = {{"kind", nn::model_kind_name(m.kind)},
                      {"in_features", m.in_features},
                      {"hidden", m.hidden},
                      {"num_classes", m.num_classes},
                      {"num_layers", m.num_layers}};
  if (m.kind == nn::ModelKind::kGat) j["heads"] = m.heads;  // older checkpoints have none
  return j;
}

Trainer::Trainer(Strategy& strategy, TrainingState& state, const TrainOptions& options)
    : strategy_(strategy), state_(state), options_(options) {}

nlohmann::json Trainer::checkpoint_meta(const RunRecord& record, int64_t epoch) const {
  nlohmann::json history = nlohmann::json::array();
  for (const auto& e : record.epochs) history.push_back(epoch_json(e));
  return {{"epoch", epoch},
          {"dataset", options_.dataset},
          {"seed", options_.seed},
          {"model", model_json(options_.model)},
          {"normalize_features", options_.normalize_features},
          {"history", history},
          {"best_val_acc", record.best_val_acc},
          {"best_test_acc", record.best_test_acc},
          {"best_epoch", record.best_epoch}};
}

void Trainer::resume(RunRecord& record, int64_t& next_epoch) {
  nlohmann::json meta = runtime::read_checkpoint_meta(options_.checkpoint_dir);
  const nlohmann::json expected = model_json(options_.model);
  check(meta.at("model") == expected,
        "--resume: checkpoint {} holds model {}, but the flags describe {}",
        options_.checkpoint_dir, meta.at("model").dump(), expected.dump());
  check(meta.value("dataset", "") == options_.dataset,
        "--resume: checkpoint {} was trained on '{}', not '{}'", options_.checkpoint_dir,
        meta.value("dataset", ""), options_.dataset);
  runtime::load_checkpoint(options_.checkpoint_dir, *state_.model, state_.optimizer.get());
  for (const auto& e : meta.at("history")) record.epochs.push_back(epoch_from_json(e));
  record.best_val_acc = meta.at("best_val_acc");
  record.best_test_acc = meta.at("best_test_acc");
  record.best_epoch = meta.at("best_epoch");
  next_epoch = meta.at("epoch").get<int64_t>() + 1;
}

RunRecord Trainer::run() {
  RunRecord record;
  runtime::Progress progress(options_.progress);
  int64_t first_epoch = 1;
  if (options_.resume) {
    resume(record, first_epoch);
    progress.line(fmt::format("resuming {} after epoch {}", options_.checkpoint_dir, first_epoch - 1));
  }
  for (int64_t epoch = first_epoch; epoch <= options_.epochs; ++epoch) {
    const auto start = Clock::now();
    EpochRecord e;
    e.epoch = epoch;
    e.stats = strategy_.train_epoch(epoch, progress);
    const bool evaluate = options_.evaluates_after(epoch);
    std::string summary = fmt::format("loss {:.4f} train {:.4f}", e.stats.loss, e.stats.train_acc);
    if (evaluate) {
      const auto eval_start = Clock::now();
      progress.status("evaluating on all nodes with all neighbours...");
      // Training's freed batch buffers go back to the system before
      // evaluation's tables arrive, and those before training resumes: glibc
      // keeps freed heap otherwise, and the two peaks would add up in RSS.
      trim_freed_heap();
      e.accuracy = strategy_.evaluate();
      trim_freed_heap();
      e.eval_seconds = std::chrono::duration<double>(Clock::now() - eval_start).count();
      record.last = *e.accuracy;
      if (e.accuracy->val > record.best_val_acc) {
        record.best_val_acc = e.accuracy->val;
        record.best_test_acc = e.accuracy->test;
        record.best_epoch = epoch;
      }
      summary += fmt::format(" val {:.4f} test {:.4f}", e.accuracy->val, e.accuracy->test);
    }
    e.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    record.epochs.push_back(e);
    progress.end_epoch(fmt::format("{} ({:.1f} s)", summary, e.seconds));
    if (!options_.checkpoint_dir.empty() && options_.write_checkpoints)
      runtime::save_checkpoint(options_.checkpoint_dir, *state_.model, *state_.optimizer,
                               checkpoint_meta(record, epoch), state_.model->pyg_aliases());
  }
  for (const auto& e : record.epochs) record.seconds_total += e.seconds;
  if (!record.epochs.empty() && record.epochs.back().accuracy)
    record.last = *record.epochs.back().accuracy;
  record.devices = strategy_.device_reports();
  for (auto& device : record.devices) device.memory_budget_bytes = options_.memory_budget_bytes;
  return record;
}

nlohmann::json metrics_json(const RunRecord& record, const TrainOptions& options,
                            const std::string& strategy, int devices, const std::string& backend) {
  nlohmann::json epochs = nlohmann::json::array();
  for (const auto& e : record.epochs) epochs.push_back(epoch_json(e));
  nlohmann::json per_device = nlohmann::json::array();
  for (const auto& d : record.devices) {
    per_device.push_back({{"rank", d.rank},
                          {"role", d.role},
                          {"peak_rss_bytes", d.peak_rss_bytes},
                          {"bytes_sent", d.bytes_sent},
                          {"bytes_received", d.bytes_received},
                          {"parameter_checksum", d.parameter_checksum},
                          {"busy_seconds", d.busy_seconds},
                          {"idle_seconds", d.idle_seconds},
                          {"training_bytes_sent", d.training_bytes_sent},
                          {"training_cpu_seconds", d.training_cpu_seconds},
                          {"memory_budget_bytes", d.memory_budget_bytes
                                                      ? nlohmann::json(*d.memory_budget_bytes)
                                                      : nlohmann::json(nullptr)}});
  }
  return {{"dataset", options.dataset},
          {"model", nn::model_kind_name(options.model.kind)},
          {"strategy", strategy},
          {"devices", devices},
          {"backend", backend},
          {"feature_dtype", graph::feature_dtype_name(options.feature_dtype)},
          {"levers",
           {{"eval_chunk_nodes", options.levers.eval_chunk_nodes},
            {"eval_order", eval_order_name(options.levers.eval_project_first)},
            {"sampler_queue_depth", options.levers.sampler_queue_depth},
            {"feature_cache_bytes", options.levers.feature_cache_bytes}}},
          {"seed", options.seed},
          {"epochs", epochs},
          {"val_acc", record.best_val_acc},
          {"test_acc", record.best_test_acc},
          {"best_epoch", record.best_epoch},
          {"last_val_acc", record.last.val},
          {"last_test_acc", record.last.test},
          {"seconds_total", record.seconds_total},
          {"per_device", per_device}};
}

}  // namespace edgegnn::train
