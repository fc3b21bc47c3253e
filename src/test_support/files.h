// Files tests write as users' data would come: plain text, or gzip.
#pragma once

#include <filesystem>
#include <string>

namespace edgegnn::test {

void write_text(const std::filesystem::path& path, const std::string& text);
// `text` gzip-compressed, as zlib (and SNAP's .gz files) write it.
void write_gzip(const std::filesystem::path& path, const std::string& text);

}  // namespace edgegnn::test
