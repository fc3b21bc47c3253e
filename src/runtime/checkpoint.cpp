#include "runtime/checkpoint.h"

#include <fstream>

#include <ATen/CPUGeneratorImpl.h>

#include "core/error.h"

namespace edgegnn::runtime {
namespace {

namespace fs = std::filesystem;

void rename_into_place(const fs::path& tmp, const fs::path& path) {
  std::error_code ec;
  fs::rename(tmp, path, ec);
  check(!ec, "{}: cannot rename to {}: {}", tmp.string(), path.string(), ec.message());
}

template <typename Write>
void write_atomically(const fs::path& path, Write&& write) {
  fs::path tmp = path;
  tmp += ".tmp";
  try {
    write(tmp);
  } catch (const c10::Error& e) {
    fail("{}: cannot write: {}", tmp.string(), e.what_without_backtrace());
  }
  rename_into_place(tmp, path);
}

torch::serialize::InputArchive open_archive(const fs::path& dir) {
  const fs::path path = dir / "checkpoint.pt";
  check(fs::exists(path), "--checkpoint: {} has no checkpoint.pt", dir.string());
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path.string());
  } catch (const c10::Error& e) {
    fail("{}: not a readable checkpoint: {}", path.string(), e.what_without_backtrace());
  }
  return archive;
}

}  // namespace

void save_checkpoint(const fs::path& dir, const torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer, const nlohmann::json& meta) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  check(!ec, "--checkpoint: cannot create {}: {}", dir.string(), ec.message());
  nlohmann::json full = meta;
  full["magic"] = kCheckpointMagic;
  full["format_version"] = kCheckpointVersion;

  torch::serialize::OutputArchive archive;
  c10::Dict<std::string, torch::Tensor> state_dict;
  for (const auto& item : model.named_parameters()) {
    archive.write("model." + item.key(), item.value());
    state_dict.insert(item.key(), item.value().detach());
  }
  torch::serialize::OutputArchive optimizer_archive;
  optimizer.save(optimizer_archive);
  archive.write("optimizer", optimizer_archive);
  {
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    archive.write("rng", generator.get_state());
  }
  archive.write("meta", c10::IValue(full.dump()));
  write_atomically(dir / "checkpoint.pt", [&](const fs::path& tmp) { archive.save_to(tmp.string()); });

  std::vector<char> pickled = torch::pickle_save(c10::IValue(state_dict));
  write_atomically(dir / "model.pt", [&](const fs::path& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(pickled.data(), static_cast<std::streamsize>(pickled.size()));
    check(out.good(), "{}: write failed", tmp.string());
  });
  write_atomically(dir / "checkpoint.json", [&](const fs::path& tmp) {
    std::ofstream out(tmp, std::ios::trunc);
    out << full.dump(2) << "\n";
    check(out.good(), "{}: write failed", tmp.string());
  });
}

nlohmann::json read_checkpoint_meta(const fs::path& dir) {
  torch::serialize::InputArchive archive = open_archive(dir);
  c10::IValue text;
  check(archive.try_read("meta", text) && text.isString(), "{}: checkpoint has no description",
        (dir / "checkpoint.pt").string());
  nlohmann::json meta = nlohmann::json::parse(text.toStringRef(), nullptr, false);
  check(!meta.is_discarded() && meta.value("magic", "") == kCheckpointMagic,
        "{}: not an edgegnn checkpoint", (dir / "checkpoint.pt").string());
  check(meta.value("format_version", 0) == kCheckpointVersion,
        "{}: checkpoint format version {}, this edgegnn reads version {}",
        (dir / "checkpoint.pt").string(), meta.value("format_version", 0), kCheckpointVersion);
  return meta;
}

void load_checkpoint(const fs::path& dir, torch::nn::Module& model,
                     torch::optim::Optimizer* optimizer) {
  torch::serialize::InputArchive archive = open_archive(dir);
  const std::string path = (dir / "checkpoint.pt").string();
  torch::NoGradGuard no_grad;
  for (auto& item : model.named_parameters()) {
    torch::Tensor saved;
    check(archive.try_read("model." + item.key(), saved), "{}: no parameter '{}'", path, item.key());
    check(saved.sizes() == item.value().sizes(), "{}: parameter '{}' has shape {}, the model {}",
          path, item.key(), fmt::join(saved.sizes(), "x"), fmt::join(item.value().sizes(), "x"));
    item.value().copy_(saved);
  }
  if (optimizer) {
    torch::serialize::InputArchive optimizer_archive;
    check(archive.try_read("optimizer", optimizer_archive), "{}: no optimizer state", path);
    optimizer->load(optimizer_archive);
    torch::Tensor rng;
    check(archive.try_read("rng", rng), "{}: no RNG state", path);
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(rng);
  }
}

}  // namespace edgegnn::runtime
