// The mpi backend: OpenMPI called directly, for runs started by mpirun
// (`mpirun -np 4 --hostfile hosts edgegnn train --backend mpi ...`). Rank and
// size come from MPI_COMM_WORLD; CommOptions::rank, size, master_addr,
// master_port and interface are ignored.
//
//  * MPI lifetime: the communicator calls MPI_Init_thread unless MPI is
//    already initialised, asking for MPI_THREAD_MULTIPLE (a channel, see
//    open_channel, is used from a thread of its own) and needing at least
//    FUNNELED, and MPI_Finalize when destroyed if it initialised MPI. MPI
//    cannot start twice, so a process makes at most one mpi communicator
//    (and its channels, each a duplicate of MPI_COMM_WORLD).
//  * Timeout: MPI calls never time out, so every operation is started
//    non-blocking (MPI_Iallreduce, MPI_Ialltoallv, ...) and polled with
//    MPI_Test against a deadline of `timeout` for the whole call.
//  * Naming the missing rank: point to point names its peer. A collective
//    that times out holds a roll call on a communicator of its own: it sends
//    its collective count to every rank and waits up to min(timeout, 2 s) for
//    theirs; ranks that do not answer, or answer from another collective, are
//    named. Ranks that time out together answer each other.
//  * After a failure the destructor skips MPI_Finalize, which would wait for
//    the missing peers; the process must exit non-zero, and mpirun then ends
//    the job. A peer that dies outright is noticed by mpirun itself, which
//    kills the job and prints the rank ("mpirun noticed that process rank 2
//    ... exited on signal 9").
#pragma once

#include <memory>

#include "comm/communicator.h"

namespace edgegnn::comm {

// Initialises MPI if needed and wraps MPI_COMM_WORLD; throws Error if MPI
// was finalised already or does not provide MPI_THREAD_FUNNELED.
std::unique_ptr<Communicator> make_mpi_communicator(const CommOptions& options);

}  // namespace edgegnn::comm
