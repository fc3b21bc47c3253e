#include "comm/mpi_communicator.h"

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <thread>

#include "core/error.h"

namespace edgegnn::comm {
namespace {

using Clock = std::chrono::steady_clock;

// The roll call after a timeout waits this long at most for the other ranks.
constexpr std::chrono::milliseconds kMaxRollCall{2000};
constexpr int kRollCallTag = 1;

std::string mpi_error(int rc) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  return std::string(text, length);
}

MPI_Datatype mpi_type(DataType type) {
  switch (type) {
    case DataType::kFloat32:
      return MPI_FLOAT;
    case DataType::kInt32:
      return MPI_INT32_T;
    case DataType::kInt64:
      return MPI_INT64_T;
    case DataType::kByte:
      return MPI_BYTE;
  }
  fail("unknown DataType {}", static_cast<int>(type));
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator(int rank, int size, std::chrono::milliseconds timeout, bool owns_mpi);
  ~MpiCommunicator() override;
  const char* backend() const override { return "mpi"; }

 private:
  std::function<void()> do_allreduce_sum_start(std::span<float> data) override;
  void do_progress() override;
  void do_alltoallv(const void* send, std::span<const int64_t> send_counts, void* recv,
                    std::span<const int64_t> recv_counts, DataType type) override;
  void do_broadcast(void* data, int64_t count, DataType type, int root) override;
  std::function<void()> do_send_start(std::span<const std::byte> data, int peer,
                                      int tag) override;
  void do_recv(std::span<std::byte> data, int peer, int tag) override;
  void do_barrier() override;
  std::unique_ptr<Communicator> do_open_channel(int index) override;

  // Throws Error for an MPI return code other than MPI_SUCCESS.
  void call(int rc) const;
  // MPI counts are int: refuses what does not fit.
  int count_of(int64_t count) const;
  // Polls `request` until it completes or the deadline passes, then throws
  // Error naming `peer` (point to point) or the roll call's missing ranks.
  void finish(MPI_Request& request, int peer = -1, MPI_Status* status = MPI_STATUS_IGNORE);
  // The ranks that do not answer from this collective, "" if all do.
  std::string roll_call();

  const bool owns_mpi_;  // this communicator initialised MPI and finalises it
  MPI_Comm comm_ = MPI_COMM_NULL;
  MPI_Comm roll_call_comm_ = MPI_COMM_NULL;  // kept apart from user tags
  // Issues a non-blocking call on the request it is given and returns the
  // function that finishes it (for `peer`, or a collective when -1).
  template <typename Issue>
  std::function<void()> start(Issue&& issue, int peer = -1);

  // Started operations not yet waited for, for do_progress to test. A request
  // is shared with its waiter and is MPI_REQUEST_NULL once complete.
  std::vector<std::shared_ptr<MPI_Request>> started_;
  // The roll call's buffers outlive it: its requests may never complete.
  int64_t roll_call_sent_ = 0;
  std::vector<int64_t> roll_call_received_;
};

MpiCommunicator::MpiCommunicator(int rank, int size, std::chrono::milliseconds timeout,
                                 bool owns_mpi)
    : Communicator(rank, size, timeout), owns_mpi_(owns_mpi) {
  // Errors come back as codes (MPI_ERRORS_RETURN) rather than aborting the job
  // from inside the library, so they can become Errors that name the rank.
  for (MPI_Comm* comm : {&comm_, &roll_call_comm_}) {
    check(MPI_Comm_dup(MPI_COMM_WORLD, comm) == MPI_SUCCESS &&
              MPI_Comm_set_errhandler(*comm, MPI_ERRORS_RETURN) == MPI_SUCCESS,
          "rank {}: mpi: cannot duplicate MPI_COMM_WORLD", rank);
  }
}

MpiCommunicator::~MpiCommunicator() {
  close_channels();
  // After a failure MPI_Comm_free and MPI_Finalize may wait for the missing
  // peers forever; the process exits instead and mpirun ends the job.
  if (failed()) return;
  MPI_Comm_free(&comm_);
  MPI_Comm_free(&roll_call_comm_);
  if (owns_mpi_) MPI_Finalize();
}

void MpiCommunicator::call(int rc) const {
  check(rc == MPI_SUCCESS, "{} failed after {:.1f} s: {}", op_label(), op_seconds(), mpi_error(rc));
}

int MpiCommunicator::count_of(int64_t count) const {
  check(count <= INT_MAX, "{}: {} elements exceed MPI's int counts", op_label(), count);
  return static_cast<int>(count);
}

void MpiCommunicator::finish(MPI_Request& request, int peer, MPI_Status* status) {
  const auto deadline = Clock::now() + timeout();
  for (int polls = 0;; ++polls) {
    int done = 0;
    call(MPI_Test(&request, &done, status));
    if (done) return;
    if (Clock::now() >= deadline) break;
    // Spin briefly, for the many small collectives that finish at once, then
    // sleep: local emulation runs several ranks per core, and a rank that
    // waits should leave the core to the ones still computing.
    if (polls < 1000) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
  const double seconds = op_seconds();
  const std::string missing = peer >= 0 ? fmt::format("rank {}", peer) : roll_call();
  fail(
      "{} timed out after {:.1f} s {}", op_label(), seconds,
      missing.empty() ? "though every rank answers a roll call from it" : "waiting for " + missing);
}

std::string MpiCommunicator::roll_call() {
  const int me = rank();
  roll_call_sent_ = activity().num_collectives;
  roll_call_received_.assign(size(), -1);
  std::vector<MPI_Request> answers(size(), MPI_REQUEST_NULL);
  for (int p = 0; p < size(); ++p) {
    if (p == me) continue;
    MPI_Request sent;
    call(MPI_Isend(&roll_call_sent_, 1, MPI_INT64_T, p, kRollCallTag, roll_call_comm_, &sent));
    call(MPI_Request_free(&sent));  // completes on its own, or never
    call(MPI_Irecv(&roll_call_received_[p], 1, MPI_INT64_T, p, kRollCallTag, roll_call_comm_,
                   &answers[p]));
  }
  const auto waited = std::min(timeout(), kMaxRollCall);
  const auto deadline = Clock::now() + waited;
  int pending = size() - 1;
  while (pending > 0 && Clock::now() < deadline) {
    for (MPI_Request& answer : answers) {
      if (answer == MPI_REQUEST_NULL) continue;
      int done = 0;
      call(MPI_Test(&answer, &done, MPI_STATUS_IGNORE));  // sets a done request to NULL
      pending -= done;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::string missing;
  for (int p = 0; p < size(); ++p) {
    if (p == me) continue;
    std::string why;
    if (answers[p] != MPI_REQUEST_NULL) {
      why = fmt::format("no answer to a roll call within {:.1f} s",
                        std::chrono::duration<double>(waited).count());
    } else if (roll_call_received_[p] != roll_call_sent_) {
      why = fmt::format("it is at collective #{}", roll_call_received_[p]);
    } else {
      continue;
    }
    missing += fmt::format("{}rank {} ({})", missing.empty() ? "" : " and ", p, why);
  }
  return missing;
}

template <typename Issue>
std::function<void()> MpiCommunicator::start(Issue&& issue, int peer) {
  auto request = std::make_shared<MPI_Request>(MPI_REQUEST_NULL);
  issue(request.get());
  started_.push_back(request);
  return [this, request, peer] {
    finish(*request, peer);
    std::erase(started_, request);
  };
}

std::function<void()> MpiCommunicator::do_allreduce_sum_start(std::span<float> data) {
  return start([&](MPI_Request* request) {
    call(MPI_Iallreduce(MPI_IN_PLACE, data.data(), count_of(data.size()), MPI_FLOAT, MPI_SUM,
                        comm_, request));
  });
}

void MpiCommunicator::do_progress() {
  // OpenMPI moves non-blocking collectives only inside MPI calls.
  for (const auto& request : started_) {
    int done = 0;
    if (*request != MPI_REQUEST_NULL) call(MPI_Test(request.get(), &done, MPI_STATUS_IGNORE));
  }
}

void MpiCommunicator::do_alltoallv(const void* send, std::span<const int64_t> send_counts,
                                   void* recv, std::span<const int64_t> recv_counts,
                                   DataType type) {
  std::vector<int> send_ints(size()), send_offsets(size()), recv_ints(size()), recv_offsets(size());
  int64_t send_offset = 0, recv_offset = 0;
  for (int p = 0; p < size(); ++p) {
    send_ints[p] = count_of(send_counts[p]);
    recv_ints[p] = count_of(recv_counts[p]);
    send_offsets[p] = count_of(send_offset);
    recv_offsets[p] = count_of(recv_offset);
    send_offset += send_counts[p];
    recv_offset += recv_counts[p];
  }
  MPI_Request request;
  call(MPI_Ialltoallv(send, send_ints.data(), send_offsets.data(), mpi_type(type), recv,
                      recv_ints.data(), recv_offsets.data(), mpi_type(type), comm_, &request));
  finish(request);
}

void MpiCommunicator::do_broadcast(void* data, int64_t count, DataType type, int root) {
  MPI_Request request;
  call(MPI_Ibcast(data, count_of(count), mpi_type(type), root, comm_, &request));
  finish(request);
}

std::function<void()> MpiCommunicator::do_send_start(std::span<const std::byte> data, int peer,
                                                     int tag) {
  return start([&](MPI_Request* request) {
    call(MPI_Isend(data.data(), count_of(data.size()), MPI_BYTE, peer, tag, comm_, request));
  }, peer);
}

void MpiCommunicator::do_recv(std::span<std::byte> data, int peer, int tag) {
  MPI_Request request;
  call(MPI_Irecv(data.data(), count_of(data.size()), MPI_BYTE, peer, tag, comm_, &request));
  MPI_Status status;
  finish(request, peer, &status);
  int received = 0;
  call(MPI_Get_count(&status, MPI_BYTE, &received));
  check(received == static_cast<int64_t>(data.size()), "{}: received {} bytes, expected {}",
        op_label(), received, data.size());
}

void MpiCommunicator::do_barrier() {
  MPI_Request request;
  call(MPI_Ibarrier(comm_, &request));
  finish(request);
}

std::unique_ptr<Communicator> MpiCommunicator::do_open_channel(int index) {
  int level = 0;
  call(MPI_Query_thread(&level));
  check(level == MPI_THREAD_MULTIPLE,
        "rank {}: mpi: channel {} needs MPI_THREAD_MULTIPLE, and this MPI gives thread level {} "
        "(train with --prefetch 0 to keep to one channel)",
        rank(), index, level);
  return std::make_unique<MpiCommunicator>(rank(), size(), timeout(), /*owns_mpi=*/false);
}

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator(const CommOptions& options) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  check(!finalized, "mpi: MPI was finalised already; a process makes one mpi communicator");
  if (!initialized) {
    int provided = 0;
    // MULTIPLE if it can, for a loader's channel on its own thread.
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided) == MPI_SUCCESS,
          "mpi: MPI_Init_thread failed");
    check(provided >= MPI_THREAD_FUNNELED, "mpi: MPI provides thread level {}, needs FUNNELED",
          provided);
  }
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return std::make_unique<MpiCommunicator>(rank, size, options.timeout, !initialized);
}

}  // namespace edgegnn::comm
