#include "runtime/hostfile.h"

#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace edgegnn::runtime {
namespace {

// A positive int of all of `text`, or 0.
int positive(std::string_view text) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && value > 0 ? value : 0;
}

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_')
      return false;
  return true;
}

}  // namespace

std::vector<Host> parse_hostfile(const std::string& text, const std::string& file) {
  std::vector<Host> hosts;
  std::istringstream lines(text);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string address, slots, extra;
    if (!(words >> address)) continue;
    words >> slots >> extra;
    auto where = [&] { return fmt::format("{} line {}", file, number); };
    check(extra.empty(), "{}: '{}' after the host and its slots", where(), extra);
    Host host;
    host.line = number;
    std::string_view rest = address;
    if (const auto at = rest.find('@'); at != std::string_view::npos) {
      host.user = std::string(rest.substr(0, at));
      rest.remove_prefix(at + 1);
      check(valid_name(host.user), "{}: '{}' is not a user name", where(), host.user);
    }
    if (const auto colon = rest.find(':'); colon != std::string_view::npos) {
      host.port = positive(rest.substr(colon + 1));
      check(host.port > 0 && host.port < 65536, "{}: '{}' is not a port", where(),
            rest.substr(colon + 1));
      rest = rest.substr(0, colon);
    }
    host.name = std::string(rest);
    check(valid_name(host.name), "{}: '{}' is not a host name", where(), address);
    if (!slots.empty()) {
      std::string_view count = slots;
      if (count.starts_with("slots=")) count.remove_prefix(6);
      host.slots = positive(count);
      check(host.slots > 0, "{}: '{}' is not a positive number of slots", where(), slots);
    }
    hosts.push_back(std::move(host));
  }
  return hosts;
}

std::string shell_quote(std::string_view text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::vector<std::string> ssh_to(const std::vector<std::string>& ssh, const Host& host,
                                const std::string& remote) {
  std::vector<std::string> argv = ssh;
  if (host.port > 0) argv.insert(argv.end(), {"-p", std::to_string(host.port)});
  argv.insert(argv.end(), {host.destination(), remote});
  return argv;
}

std::vector<std::string> ssh_command(const std::vector<std::string>& ssh, const Host& host,
                                     const std::map<std::string, std::string>& env,
                                     const std::vector<std::string>& remote_argv) {
  std::string command = "env";
  for (const auto& [name, value] : env) command += " " + name + "=" + shell_quote(value);
  for (const std::string& arg : remote_argv) command += " " + shell_quote(arg);
  // fd 3 keeps ssh's stdin for the watcher: a background job's own stdin is
  // /dev/null. The watcher writes nowhere, so the session ends with the command.
  return ssh_to(ssh, host,
                "exec 3<&0; " + command +
                    " </dev/null 3<&- & w=$!; (cat <&3 >/dev/null; kill -TERM $w) >/dev/null "
                    "2>&1 & exec 3<&-; wait $w");
}

std::vector<Host> read_hostfile(const std::string& path) {
  std::ifstream in(path);
  check(in.good(), "--hosts: cannot read {}", path);
  std::stringstream text;
  text << in.rdbuf();
  std::vector<Host> hosts = parse_hostfile(text.str(), path);
  check(!hosts.empty(), "--hosts: {} names no host", path);
  return hosts;
}

}  // namespace edgegnn::runtime
