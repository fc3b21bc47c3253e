#include "runtime/checkpoint.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

#include <ATen/CPUGeneratorImpl.h>

#include "core/error.h"

namespace edgegnn::runtime {
namespace {

namespace fs = std::filesystem;

// The files of one save. Each is written whole to "<name>.tmp" first, and
// only once all are written are they renamed over the old ones: a save that
// fails (a full disk) leaves the previous checkpoint whole, and its temporary
// files are removed.
class CheckpointFiles {
 public:
  explicit CheckpointFiles(fs::path dir) : dir_(std::move(dir)) {}
  ~CheckpointFiles() {
    std::error_code ignored;
    for (const std::string& name : names_) fs::remove(temporary(name), ignored);
  }

  void write(const std::string& name, std::string_view bytes) {
    names_.push_back(name);
    const fs::path tmp = temporary(name);
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    // A full disk may show only when the last bytes are flushed.
    out.close();
    check(!out.fail(), "{}: cannot write: {}", tmp.string(), std::strerror(errno));
  }

  void rename_all() {
    for (const std::string& name : names_) {
      std::error_code ec;
      fs::rename(temporary(name), dir_ / name, ec);
      check(!ec, "{}: cannot rename to {}: {}", temporary(name).string(), (dir_ / name).string(),
            ec.message());
    }
    names_.clear();
  }

 private:
  fs::path temporary(const std::string& name) const { return dir_ / (name + ".tmp"); }
  fs::path dir_;
  std::vector<std::string> names_;  // written and not yet renamed
};

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
                     torch::optim::Optimizer& optimizer, const nlohmann::json& meta,
                     const std::vector<std::pair<std::string, std::string>>& aliases) {
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
  for (const auto& [alias, name] : aliases) state_dict.insert(alias, state_dict.at(name));
  torch::serialize::OutputArchive optimizer_archive;
  optimizer.save(optimizer_archive);
  archive.write("optimizer", optimizer_archive);
  {
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    archive.write("rng", generator.get_state());
  }
  archive.write("meta", c10::IValue(full.dump()));
  std::ostringstream checkpoint;
  archive.save_to(checkpoint);
  std::vector<char> pickled = torch::pickle_save(c10::IValue(state_dict));

  CheckpointFiles files(dir);
  files.write("checkpoint.pt", checkpoint.str());
  files.write("model.pt", {pickled.data(), pickled.size()});
  files.write("checkpoint.json", full.dump(2) + "\n");
  files.rename_all();
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
