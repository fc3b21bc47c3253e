// The gloo backend: c10d's ProcessGroupGloo over a TCPStore rendezvous that
// rank 0 hosts at master_addr:master_port (torchrun's MASTER_ADDR/MASTER_PORT).
//
//  * Device: Gloo binds one TCP address per rank; peers connect to it. With
//    CommOptions::interface empty it binds the local address that routes to
//    master_addr, found with a connected UDP socket (no packet is sent). Not
//    c10d's createDefaultDevice: that binds the address this host's name
//    resolves to, and Debian maps the hostname to 127.0.1.1, which no other
//    Pi can reach.
//  * Timeout: Gloo bounds each wait on a peer inside an algorithm by the
//    timeout, so a call whose every step makes progress may take longer in
//    all; a dead peer is seen at once (its connection resets), a stopped one
//    after the timeout.
//  * Naming the missing rank: Gloo's errors name a socket or nothing, so every
//    rank also beats in the store (see gloo_heartbeat.h) and a failed call
//    waits up to four beats to say which rank fell silent.
#pragma once

#include <memory>
#include <string>

#include "comm/communicator.h"

namespace edgegnn::comm {

// Joins the group; throws Error when the store cannot be hosted or reached,
// or not every rank arrives within options.timeout.
std::unique_ptr<Communicator> make_gloo_communicator(const CommOptions& options);

// The local IPv4 address this host uses to reach `host`: connecting a UDP
// socket picks the route without sending anything. Throws Error naming
// `host` when it cannot be resolved or reached.
std::string local_address_towards(const std::string& host, int port);

}  // namespace edgegnn::comm
