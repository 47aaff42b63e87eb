// Awaiting a request's audit commit from a serving thread's coroutine, without blocking the
// thread and without a heap allocation per request: the one place the serving thread and
// the audit committer hand work to each other on the hot path.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/recycling_allocator.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <new>

#include "audit/audit_log.hpp"
#include "pipeline/pipeline.hpp"

namespace provgate::http {

// Memory a connection keeps for the committer's resumption of its commit wait (one at a
// time). The committer allocates that operation and the serving thread frees it; from the
// heap it would be a malloc per request, and its blocks would crowd the serving thread's
// recycled ones out of Asio's per-thread cache. A larger operation, or a second one at
// once, falls back to the heap.
class CommitPostMemory {
 public:
  void* Take(std::size_t bytes) {
    if (bytes <= block_.size() && !used_.exchange(true, std::memory_order_acquire)) return block_.data();
    return ::operator new(bytes);
  }
  void Give(void* p) {
    if (p == block_.data()) {
      used_.store(false, std::memory_order_release);
    } else {
      ::operator delete(p);
    }
  }

 private:
  alignas(std::max_align_t) std::array<std::byte, 256> block_{};
  std::atomic<bool> used_{false};
};

template <class T>
class CommitPostAllocator {
 public:
  using value_type = T;
  explicit CommitPostAllocator(CommitPostMemory& memory) : memory_(&memory) {}
  template <class U>
  CommitPostAllocator(const CommitPostAllocator<U>& other) : memory_(other.memory_) {}  // NOLINT: rebinding
  T* allocate(std::size_t n) { return static_cast<T*>(memory_->Take(n * sizeof(T))); }
  void deallocate(T* p, std::size_t) { memory_->Give(p); }
  template <class U>
  bool operator==(const CommitPostAllocator<U>& other) const {
    return memory_ == other.memory_;
  }

 private:
  template <class U>
  friend class CommitPostAllocator;
  CommitPostMemory* memory_;
};

namespace internal {

// The parked completion handler, in memory the serving thread recycles: the resumption
// frees it there, before resuming the coroutine. (Not in the connection's own memory: a
// handler destroyed unresumed, at shutdown, destroys the coroutine frames that would hold it.)
template <class Handler>
struct RecycledHandlerDelete {
  void operator()(Handler* h) const {
    boost::asio::recycling_allocator<Handler> alloc;
    std::allocator_traits<decltype(alloc)>::destroy(alloc, h);
    alloc.deallocate(h, 1);
  }
};

}  // namespace internal

// Submits the outcome's records and the device's last-seen update in the outcome's
// durability class, `done` (may be empty: nobody waits) called with the commit's status.
// The usual request has one record and no vector of them; the record the log hands back is
// the memory of the connection's next one.
inline void SubmitOutcome(audit::AuditLog& log, pipeline::Outcome& outcome, audit::Completion done) {
  outcome.record =
      outcome.events.empty()
          ? log.Submit(std::move(outcome.record), outcome.durability, std::move(outcome.seen), std::move(done))
          : log.Submit(outcome.TakeRecords(), outcome.durability, std::move(outcome.seen), std::move(done));
}

// Submits the outcome (SubmitOutcome) and completes with the commit's status, on the
// caller's executor. Once the record is queued the connection adds nothing more to the
// batch, so it stops counting as a commit sibling.
template <class Token>
auto AsyncCommit(audit::AuditLog& log, pipeline::Outcome& outcome, audit::CommitSibling& sibling,
                 CommitPostMemory& memory, Token&& token) {
  return boost::asio::async_initiate<Token, void(Status)>(
      [&log, &outcome, &sibling, &memory](auto handler) {
        using Handler = decltype(handler);
        using Owned = std::unique_ptr<Handler, internal::RecycledHandlerDelete<Handler>>;
        boost::asio::recycling_allocator<Handler> alloc;
        Handler* parked = alloc.allocate(1);
        std::allocator_traits<decltype(alloc)>::construct(alloc, parked, std::move(handler));
        // Holds two pointers, so std::function keeps it inline; called exactly once.
        audit::Completion done = [parked, memory = &memory](const Status& st) {
          Owned owned(parked);
          const auto executor = boost::asio::get_associated_executor(*owned);
          auto resume =
              boost::asio::bind_allocator(CommitPostAllocator<void>(*memory), [owned = std::move(owned), st]() mutable {
                Handler waiting = std::move(*owned);
                owned.reset();
                std::move(waiting)(st);
              });
          // Only the io_context's own executor takes the allocator for its operation; the
          // type-erased one the coroutine runs on would allocate its own.
          if (const auto* io = executor.template target<boost::asio::io_context::executor_type>()) {
            boost::asio::post(*io, std::move(resume));
          } else {
            boost::asio::post(executor, std::move(resume));
          }
        };
        SubmitOutcome(log, outcome, std::move(done));
        sibling.Release();
      },
      token);
}

}  // namespace provgate::http
