// Hostfile: the hosts `edgegnn launch --hosts FILE` starts workers on, and
// how a worker is started on one, over ssh. One host a line, as OpenMPI's and
// DeepSpeed's hostfiles name them:
//
//   # comment
//   pi0                  one worker on pi0, as the ssh config says to reach it
//   pi@pi1:2222          user pi, ssh port 2222
//   pi2 2                two workers (slots) on pi2
//   pi3 slots=2          the same, as OpenMPI writes it
//
// Ranks go in file order: a host's slots take consecutive ranks.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace edgegnn::runtime {

struct Host {
  std::string user;  // "" = ssh's default
  std::string name;  // what ssh and the workers reach it by
  int port = 0;      // 0 = ssh's default
  int slots = 1;
  int line = 0;      // in the hostfile, for messages

  // What ssh is given: "[user@]name".
  std::string destination() const { return user.empty() ? name : user + "@" + name; }
};

// Parses a hostfile's text; throws Error "FILE line N: ..." naming what is
// wrong. `file` names it in messages.
std::vector<Host> parse_hostfile(const std::string& text, const std::string& file);
// Reads and parses `path`; throws Error naming it when unreadable or empty.
std::vector<Host> read_hostfile(const std::string& path);

// `text` as one word of a POSIX shell command: 'it''s' -> 'it'\''s'.
std::string shell_quote(std::string_view text);

// The local command that runs the shell command `remote` on `host` through
// `ssh` (the client's argv, e.g. {"ssh", "-o", "BatchMode=yes"}).
std::vector<std::string> ssh_to(const std::vector<std::string>& ssh, const Host& host,
                                const std::string& remote);

// The local command that runs `remote_argv` on `host` through `ssh` (the
// client's argv, e.g. {"ssh", "-o", "BatchMode=yes"}) with `env` set there.
// ssh stops a remote command only when it writes to a closed connection, so
// the remote side also watches its stdin: when the launcher closes it or the
// connection drops, the command (one process, as edgegnn is: not its
// children) gets SIGTERM. The remote shell must be POSIX.
std::vector<std::string> ssh_command(const std::vector<std::string>& ssh, const Host& host,
                                     const std::map<std::string, std::string>& env,
                                     const std::vector<std::string>& remote_argv);

}  // namespace edgegnn::runtime
