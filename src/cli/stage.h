// `edgegnn launch --stage`: puts the train command's data on the hosts before
// the run, with rsync over the launch's ssh, so that a rack needs no copying
// by hand. A partition (--root holding partition.json) goes part by part:
// partition.json and part-k to the host of rank k only, as partition parallel
// reads nothing else; any other --root goes whole to every host (data and
// pipeline parallel read the whole graph). rsync skips files already there
// with the same size and modification time, so staging again costs little.
#pragma once

#include <string>
#include <vector>

#include "runtime/hostfile.h"

namespace edgegnn::cli {

struct StageRequest {
  std::string root;               // the train command's --root, on this machine
  std::string stage_dir;          // --stage-dir: on each host, relative to the login directory
  std::vector<std::string> ssh;   // the ssh client's words
  std::vector<int> host_of_rank;  // index into the hosts, by rank
  bool quiet = false;             // no per-host progress on stderr
};

// Copies, host by host, and returns for each host the absolute directory
// there that becomes the train command's --root. Throws Error naming the flag,
// the host and what failed ("--stage: pi2: rsync failed: ...").
std::vector<std::string> stage_data(const std::vector<runtime::Host>& hosts,
                                    const StageRequest& request);

}  // namespace edgegnn::cli
