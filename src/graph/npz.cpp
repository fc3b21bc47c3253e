#include "graph/npz.h"

#include <zip.h>

#include <new>
#include <system_error>

#include "core/error.h"

namespace edgegnn::graph {
namespace {

// Deflate cannot expand its input more than 1032-fold: its densest code is a
// 258-byte match in about 2 bits. A member declaring more than that is forged.
constexpr uint64_t kMaxDeflateRatio = 1032;
constexpr char kNpySuffix[] = ".npy";
constexpr size_t kNpySuffixBytes = 4;

std::string zip_error_string(int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string message = zip_error_strerror(&error);
  zip_error_fini(&error);
  return message;
}

struct ZipFileClose {
  void operator()(zip_file_t* file) const { zip_fclose(file); }
};

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  return out;
}

}  // namespace

void NpzReader::ZipDiscard::operator()(zip_t* zip) const { zip_discard(zip); }

NpzReader::NpzReader(const std::filesystem::path& path) : path_(path.string()) {
  std::error_code error;
  file_bytes_ = std::filesystem::file_size(path, error);
  check(!error, "{}: cannot open: {}", path_, error.message());
  int code = 0;
  // Not ZIP_CHECKCONS: comparing every local header with the central directory
  // is stricter than Python's zipfile (what numpy.load uses), so it could refuse
  // files numpy reads; read() checks each member's stream instead.
  zip_.reset(zip_open(path_.c_str(), ZIP_RDONLY, &code));
  check(zip_ != nullptr, "{}: not a readable .npz archive: {}", path_, zip_error_string(code));
  const zip_int64_t num_entries = zip_get_num_entries(zip_.get(), 0);
  for (zip_int64_t i = 0; i < num_entries; ++i) {
    const char* name = zip_get_name(zip_.get(), i, ZIP_FL_ENC_RAW);
    check(name != nullptr, "{}: member {}: {}", path_, i, zip_strerror(zip_.get()));
    std::string member = name;
    if (member.size() <= kNpySuffixBytes ||
        member.compare(member.size() - kNpySuffixBytes, kNpySuffixBytes, kNpySuffix) != 0)
      continue;
    names_.push_back(member.substr(0, member.size() - kNpySuffixBytes));
    indices_.push_back(static_cast<uint64_t>(i));
  }
}

bool NpzReader::contains(const std::string& name) const {
  for (const std::string& known : names_)
    if (known == name) return true;
  return false;
}

NpyArray NpzReader::read(const std::string& name) {
  size_t slot = 0;
  while (slot < names_.size() && names_[slot] != name) ++slot;
  check(slot < names_.size(), "{}: no array '{}' (has: {})", path_, name, join_names(names_));
  const std::string source = path_ + "/" + name + kNpySuffix;

  zip_stat_t stat;
  zip_stat_init(&stat);
  check(zip_stat_index(zip_.get(), indices_[slot], 0, &stat) == 0, "{}: {}", source,
        zip_strerror(zip_.get()));
  const uint64_t wanted = ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD;
  check((stat.valid & wanted) == wanted, "{}: archive does not record the member's sizes", source);
  check(stat.comp_method == ZIP_CM_STORE || stat.comp_method == ZIP_CM_DEFLATE,
        "{}: unsupported compression method {} (expected stored or deflated)", source,
        stat.comp_method);
  check(stat.comp_size <= file_bytes_, "{}: compressed size {} exceeds the archive's {} bytes",
        source, stat.comp_size, file_bytes_);
  const uint64_t max_bytes =
      stat.comp_method == ZIP_CM_STORE ? stat.comp_size : stat.comp_size * kMaxDeflateRatio;
  check(stat.size <= max_bytes, "{}: declared size {} bytes cannot come from {} compressed bytes",
        source, stat.size, stat.comp_size);

  std::vector<uint8_t> bytes;
  try {
    bytes.resize(stat.size);
  } catch (const std::bad_alloc&) {
    fail("{}: cannot allocate {} bytes", source, stat.size);
  }
  std::unique_ptr<zip_file_t, ZipFileClose> file(zip_fopen_index(zip_.get(), indices_[slot], 0));
  check(file != nullptr, "{}: {}", source, zip_strerror(zip_.get()));
  uint64_t done = 0;
  while (done < stat.size) {
    zip_int64_t n = zip_fread(file.get(), bytes.data() + done, stat.size - done);
    check(n >= 0, "{}: {}", source, zip_file_strerror(file.get()));
    if (n == 0) break;
    done += static_cast<uint64_t>(n);
  }
  check(done == stat.size, "{}: truncated: {} of {} declared bytes", source, done, stat.size);
  // Reading on to the end makes libzip verify the CRC, and shows whether the
  // stream holds more than the directory declared.
  uint8_t extra = 0;
  zip_int64_t n = zip_fread(file.get(), &extra, 1);
  check(n >= 0, "{}: {}", source, zip_file_strerror(file.get()));
  check(n == 0, "{}: member holds more than its declared {} bytes", source, stat.size);
  return parse_npy(std::move(bytes), source);
}

NpzWriter::NpzWriter(std::filesystem::path path, NpzCompression compression)
    : path_(std::move(path)), compression_(compression) {}

void NpzWriter::add(const std::string& name, const NpyArray& array) {
  for (const std::string& known : names_)
    check(known != name, "{}: array '{}' added twice", path_.string(), name);
  members_.push_back(write_npy(array));
  names_.push_back(name);
}

void NpzWriter::finish() {
  const std::string path = path_.string();
  // libzip writes nothing at all for an archive without members.
  check(!names_.empty(), "{}: no arrays to write", path);
  // One writer per path at a time: a second would share this temporary name.
  const std::string temp = path + ".tmp";
  std::error_code error;
  std::filesystem::remove(temp, error);
  int code = 0;
  zip_t* zip = zip_open(temp.c_str(), ZIP_CREATE | ZIP_EXCL, &code);
  check(zip != nullptr, "{}: cannot create: {}", temp, zip_error_string(code));
  auto abandon = [&](const std::string& what) {
    std::string message = fmt::format("{}: {}: {}", path, what, zip_strerror(zip));
    zip_discard(zip);
    std::filesystem::remove(temp, error);
    throw Error(message);
  };
  const zip_int32_t method =
      compression_ == NpzCompression::kDeflated ? ZIP_CM_DEFLATE : ZIP_CM_STORE;
  for (size_t i = 0; i < names_.size(); ++i) {
    // The buffer is borrowed (freep = 0): members_ outlives zip_close below.
    zip_source_t* source = zip_source_buffer(zip, members_[i].data(), members_[i].size(), 0);
    if (source == nullptr) abandon("cannot add '" + names_[i] + "'");
    zip_int64_t index =
        zip_file_add(zip, (names_[i] + kNpySuffix).c_str(), source, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(source);
      abandon("cannot add '" + names_[i] + "'");
    }
    if (zip_set_file_compression(zip, index, method, 0) != 0)
      abandon("cannot compress '" + names_[i] + "'");
  }
  if (zip_close(zip) != 0) abandon("cannot write");
  std::filesystem::rename(temp, path_, error);
  if (error) {
    std::string reason = error.message();
    std::filesystem::remove(temp, error);
    fail("{}: cannot rename {} into place: {}", path, temp, reason);
  }
}

}  // namespace edgegnn::graph
