// The emulator's scheduler: a block's threads are fibers on the launching host thread. A
// fiber runs until it reaches a barrier; a barrier opens when every live thread it waits for
// has arrived (threads that returned count as arrived, as on sm_70+). Warp
// exchanges (shuffles, ldmatrix, mma) are warp barriers with a 64-byte slot per lane.
// A full pass in which no waiting fiber can go on is a deadlock: the launch fails with a
// description of who waits where.
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <vector>

#include "cuda_emu.h"
#include "emu_internal.h"

namespace emu {

// Launches run one at a time (launch_mutex), so the running fiber's state is in plain
// globals: thread_local in a shared library costs a __tls_get_addr call per threadIdx.
const ThreadIndex* running_index = nullptr;

namespace {

// ---- fiber contexts ---------------------------------------------------------------------------
// On x86-64 a switch saves the callee-saved registers and the FP control words on the
// stack and swaps stack pointers (about 10 ns; swapcontext makes a signal-mask system call
// per switch, about 50 times slower, and barriers switch a lot). Elsewhere: ucontext.
#if defined(__x86_64__)
extern "C" void benchsuite_emu_switch(void** save_sp, void* load_sp);
extern "C" void benchsuite_emu_trampoline();
asm(R"(
.text
.globl benchsuite_emu_switch
.hidden benchsuite_emu_switch
.type benchsuite_emu_switch,@function
benchsuite_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $16, %rsp
  stmxcsr 8(%rsp)
  fnstcw (%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr 8(%rsp)
  fldcw (%rsp)
  addq $16, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
.size benchsuite_emu_switch,.-benchsuite_emu_switch
.globl benchsuite_emu_trampoline
.hidden benchsuite_emu_trampoline
.type benchsuite_emu_trampoline,@function
benchsuite_emu_trampoline:
  callq *%r13
  ud2
.size benchsuite_emu_trampoline,.-benchsuite_emu_trampoline
)");

struct Context {
  void* sp = nullptr;
};

// The first switch into a new context "returns" into the trampoline, which calls entry.
void context_make(Context& c, void* stack, size_t bytes, void (*entry)()) {
  const uintptr_t top = (reinterpret_cast<uintptr_t>(stack) + bytes) & ~uintptr_t{15};
  uint64_t* sp = reinterpret_cast<uint64_t*>(top - 88);  // after the ret: top - 16, 16-byte aligned
  sp[0] = 0x037F;                                     // x87 control word (default)
  sp[1] = 0x1F80;                                     // MXCSR (default)
  sp[2] = 0;                                          // r15
  sp[3] = 0;                                          // r14
  sp[4] = reinterpret_cast<uint64_t>(entry);          // r13: called by the trampoline
  sp[5] = 0;                                          // r12
  sp[6] = 0;                                          // rbx
  sp[7] = 0;                                          // rbp
  sp[8] = reinterpret_cast<uint64_t>(&benchsuite_emu_trampoline);
  c.sp = sp;
}
void context_switch(Context& from, Context& to) { benchsuite_emu_switch(&from.sp, to.sp); }
#else
struct Context {
  ucontext_t uc;
};
void context_make(Context& c, void* stack, size_t bytes, void (*entry)()) {
  getcontext(&c.uc);
  c.uc.uc_stack.ss_sp = stack;
  c.uc.uc_stack.ss_size = bytes;
  c.uc.uc_link = nullptr;  // entries never return
  makecontext(&c.uc, entry, 0);
}
void context_switch(Context& from, Context& to) { swapcontext(&from.uc, &to.uc); }
#endif

constexpr size_t kStackBytes = 256 * 1024;
constexpr int kMaxThreadsPerBlock = 1024;
constexpr size_t kSlotBytes = kWarpSlotBytes;

// Fiber stacks with a guard page below each: an overflow faults instead of corrupting.
class StackPool {
 public:
  ~StackPool() {
    for (void* base : bases_) munmap(base, kStackBytes + page());
  }
  void* stack(int i) {
    while (static_cast<int>(bases_.size()) <= i) {
      void* base = mmap(nullptr, kStackBytes + page(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                        -1, 0);
      if (base == MAP_FAILED) throw std::bad_alloc();
      mprotect(base, page(), PROT_NONE);
      bases_.push_back(base);
    }
    return static_cast<char*>(bases_[i]) + page();
  }
  static size_t page() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

 private:
  std::vector<void*> bases_;
};

struct PendingCopy {
  void* dst;
  unsigned char data[16];
  unsigned group;
};

struct Fiber {
  Context context;
  ThreadIndex index;
  bool done = false;
  const unsigned* wait_generation = nullptr;  // the barrier generation this fiber waits to change
  unsigned wait_value = 0;
  const char* waits_at = "";
  std::vector<PendingCopy> copies;  // cp.async issued, not yet landed
  unsigned groups_committed = 0;
};

struct Barrier {
  unsigned generation = 0;
  int arrived = 0;
};

// Lanes that name the same mask meet at one barrier; disjoint masks (segmented shuffles
// of lane groups) meet separately, as on sm_70+. Each barrier has its own exchange slots.
struct WarpBarrier {
  Barrier barrier;
  alignas(16) unsigned char slots[2][32][kSlotBytes];
};

struct Warp {
  unsigned live_lanes = 0;
  std::vector<std::pair<unsigned, std::unique_ptr<WarpBarrier>>> by_mask;
  WarpBarrier& for_mask(unsigned mask) {
    for (auto& entry : by_mask)
      if (entry.first == mask) return *entry.second;
    by_mask.emplace_back(mask, std::make_unique<WarpBarrier>());
    return *by_mask.back().second;
  }
};

struct BlockRun {
  std::vector<Fiber> fibers;
  std::vector<Warp> warps;
  Barrier block;
  int live = 0;
  const std::function<void()>* body = nullptr;
  Context scheduler;
  Fiber* current = nullptr;
  std::string error;
  std::vector<unsigned char> dynamic_smem;
  std::vector<const void*> poisoned;  // static __shared__ arrays already filled in this block
  size_t static_smem = 0;             // their bytes
  std::vector<PendingCopy> late_copies;  // cp.async never waited for by the thread that issued it
};

BlockRun* running_block = nullptr;
StackPool fiber_stacks;
std::mutex launch_mutex;

// With BENCHSUITE_EMU_LAUNCH_LOG=FILE, each process appends "count name" per launch site
// at exit, for tools/cuda_emu/launch_coverage.py (which launch sites the tests never reach).
class LaunchLog {
 public:
  ~LaunchLog() {
    const char* path = std::getenv("BENCHSUITE_EMU_LAUNCH_LOG");
    if (path == nullptr || counts_.empty()) return;
    std::string text;
    for (const auto& [name, count] : counts_) text += std::to_string(count) + " " + name + "\n";
    if (FILE* f = std::fopen(path, "a")) {
      std::fwrite(text.data(), 1, text.size(), f);
      std::fclose(f);
    }
  }
  void add(const char* name) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++counts_[name];
  }

 private:
  std::mutex mutex_;
  std::map<std::string, long long> counts_;
};
LaunchLog launch_log;
uint64_t launch_sequence = 0;  // launches so far (under launch_mutex)

BlockRun& block_run() {
  if (running_block == nullptr) {
    std::fprintf(stderr, "benchsuite CUDA emulator: a device function was called outside a kernel\n");
    std::abort();
  }
  return *running_block;
}

void yield(BlockRun& b) { context_switch(b.current->context, b.scheduler); }

void apply_copies(Fiber& f, unsigned upto_group) {  // land every copy of a group < upto_group
  size_t kept = 0;
  for (PendingCopy& c : f.copies) {
    if (c.group < upto_group)
      std::memcpy(c.dst, c.data, sizeof c.data);
    else
      f.copies[kept++] = c;
  }
  f.copies.resize(kept);
}

int popcount(unsigned v) { return __builtin_popcount(v); }

bool try_release(Barrier& barrier, int expected) {
  if (barrier.arrived > 0 && barrier.arrived >= expected) {
    barrier.arrived = 0;
    ++barrier.generation;
    return true;
  }
  return false;
}

// The calling fiber arrives; it waits unless it completes the barrier.
void arrive_and_wait(BlockRun& b, Barrier& barrier, int expected, const char* where) {
  Fiber& f = *b.current;
  f.wait_generation = &barrier.generation;
  f.wait_value = barrier.generation;
  f.waits_at = where;
  ++barrier.arrived;
  if (try_release(barrier, expected)) {
    f.wait_generation = nullptr;
    return;
  }
  yield(b);
}

void fiber_exit(BlockRun& b) {
  Fiber& f = *b.current;
  // Copies never waited for land when the whole block is done: no thread of the block may
  // count on them before that.
  b.late_copies.insert(b.late_copies.end(), f.copies.begin(), f.copies.end());
  f.copies.clear();
  f.done = true;
  --b.live;
  Warp& w = b.warps[f.index.linear / 32];
  w.live_lanes &= ~(1u << (f.index.linear % 32));
  try_release(b.block, b.live);
  for (auto& entry : w.by_mask) try_release(entry.second->barrier, popcount(entry.first & w.live_lanes));
}

void fiber_entry() {
  BlockRun& b = *running_block;
  (*b.body)();
  fiber_exit(b);
  for (;;) yield(b);  // a finished fiber is never resumed
}

std::string dim_string(const uint3& v) {
  std::ostringstream s;
  s << "(" << v.x << "," << v.y << "," << v.z << ")";
  return s.str();
}

std::string deadlock_report(const BlockRun& b) {
  std::ostringstream s;
  s << "deadlock in block " << dim_string(b.fibers.front().index.block_idx) << ": ";
  int shown = 0;
  for (const Fiber& f : b.fibers) {
    if (f.done || shown >= 4) continue;
    s << (shown ? "; " : "") << "thread " << f.index.linear << " waits at " << f.waits_at;
    ++shown;
  }
  s << " (" << b.live << " of " << b.fibers.size() << " threads live; " << b.block.arrived
    << " at __syncthreads)";
  return s.str();
}

// ---- faults inside a kernel become launch errors -----------------------------------------------
struct sigaction previous_segv, previous_bus;
bool handlers_installed = false;

void on_fault(int sig, siginfo_t* info, void* uctx) {
  BlockRun* b = running_block;
  if (b == nullptr || b->current == nullptr) {  // not ours: let the previous handler see it
    sigaction(sig, sig == SIGSEGV ? &previous_segv : &previous_bus, nullptr);
    return;
  }
  b->error = "invalid memory access at " + describe_address(info->si_addr) + " by thread " +
             std::to_string(b->current->index.linear) + " of block " + dim_string(b->current->index.block_idx);
  // Leave the handler for the scheduler (SA_NODEFER left SIGSEGV unblocked); the faulting
  // fiber is abandoned, its stack reused by the next block.
  Context abandoned;
  context_switch(abandoned, b->scheduler);
}

void install_fault_handlers() {
  if (handlers_installed) return;
  handlers_installed = true;
  static std::vector<char> alt(1 << 16);
  stack_t ss{};
  ss.ss_sp = alt.data();
  ss.ss_size = alt.size();
  sigaltstack(&ss, nullptr);
  struct sigaction sa {};
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &previous_segv);
  sigaction(SIGBUS, &sa, &previous_bus);
}

// Runs one block to completion in `b` (reused from block to block of a launch, so its
// buffers are allocated once); returns an error description or "".
std::string run_block(BlockRun& b, const std::function<void()>& body, const LaunchConfig& config,
                      const uint3& block_idx) {
  const int n = static_cast<int>(config.block.x * config.block.y * config.block.z);
  b.body = &body;
  b.fibers.resize(n);
  b.warps.resize((n + 31) / 32);
  b.live = n;
  b.block.arrived = 0;
  b.error.clear();
  b.poisoned.clear();
  b.static_smem = 0;
  b.late_copies.clear();
  for (int w = 0; w < static_cast<int>(b.warps.size()); ++w) {
    const int lanes = std::min(32, n - 32 * w);
    b.warps[w].live_lanes = lanes == 32 ? 0xffffffffu : ((1u << lanes) - 1u);
    for (auto& entry : b.warps[w].by_mask) entry.second->barrier.arrived = 0;
  }
  b.dynamic_smem.assign(config.dynamic_smem, 0xFF);  // uninitialised, as on the device: NaN, never zeros
  for (int i = 0; i < n; ++i) {
    Fiber& f = b.fibers[i];
    f.done = false;
    f.wait_generation = nullptr;
    f.copies.clear();
    f.groups_committed = 0;
    f.index.linear = i;
    f.index.thread_idx = make_uint3(i % config.block.x, (i / config.block.x) % config.block.y,
                                    i / (config.block.x * config.block.y));
    f.index.block_idx = block_idx;
    f.index.block_dim = config.block;
    f.index.grid_dim = config.grid;
    context_make(f.context, fiber_stacks.stack(i), kStackBytes, fiber_entry);
  }
  BlockRun* outer = running_block;
  running_block = &b;
  // Between barriers threads run one after another, so a thread reading what another
  // wrote without a barrier sees it only if the writer ran first: alternating the order
  // from block to block, and from launch to launch for one-block grids, shows such a race
  // whichever way round it is.
  const uint64_t block_linear = block_idx.x + uint64_t{config.grid.x} * (block_idx.y + uint64_t{config.grid.y} * block_idx.z);
  const bool reverse = (block_linear + launch_sequence) % 2 == 1;
  while (b.live > 0 && b.error.empty()) {
    bool progress = false;
    for (int i = 0; i < n; ++i) {
      Fiber& f = b.fibers[reverse ? n - 1 - i : i];
      if (f.done || (f.wait_generation != nullptr && *f.wait_generation == f.wait_value)) continue;
      f.wait_generation = nullptr;
      b.current = &f;
      running_index = &f.index;
      context_switch(b.scheduler, f.context);
      progress = true;
      if (!b.error.empty()) break;
    }
    if (!progress && b.error.empty()) b.error = deadlock_report(b);
  }
  for (const PendingCopy& c : b.late_copies) std::memcpy(c.dst, c.data, sizeof c.data);
  b.current = nullptr;
  running_block = outer;
  running_index = nullptr;
  return b.error;
}

}  // namespace

// ---- device-side entry points -----------------------------------------------------------------
void block_barrier() {
  BlockRun& b = block_run();
  arrive_and_wait(b, b.block, b.live, "__syncthreads");
}

namespace {
WarpBarrier& warp_barrier_for(BlockRun& b, unsigned mask) {
  Fiber& f = *b.current;
  if (!(mask >> (f.index.linear % 32) & 1u)) trap("a warp-synchronous call by a lane outside its own mask");
  return b.warps[f.index.linear / 32].for_mask(mask);
}
void warp_arrive(BlockRun& b, WarpBarrier& wb, unsigned mask) {
  const Warp& w = b.warps[b.current->index.linear / 32];
  arrive_and_wait(b, wb.barrier, popcount(mask & w.live_lanes), "a warp-synchronous call");
}
}  // namespace

void warp_barrier(unsigned mask) {
  BlockRun& b = block_run();
  warp_arrive(b, warp_barrier_for(b, mask), mask);
}

const unsigned char* warp_exchange(const void* mine, size_t bytes, unsigned mask) {
  BlockRun& b = block_run();
  WarpBarrier& wb = warp_barrier_for(b, mask);
  const unsigned parity = wb.barrier.generation & 1u;
  std::memcpy(wb.slots[parity][b.current->index.linear % 32], mine, bytes);
  warp_arrive(b, wb, mask);
  // Slots alternate with the generation: a lane already at the next exchange writes the
  // other half, and cannot reach the one after before every lane has read this one.
  return &wb.slots[parity][0][0];
}

void trap(const char* why) {
  BlockRun& b = block_run();
  b.error = std::string(why) + " in thread " + std::to_string(b.current->index.linear) + " of block " +
            dim_string(b.current->index.block_idx);
  for (;;) yield(b);  // never resumed
}

unsigned long long global_timer_ns() {
  return static_cast<unsigned long long>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                             std::chrono::steady_clock::now().time_since_epoch())
                                             .count());
}

long long clock_cycles() { return static_cast<long long>(static_cast<double>(global_timer_ns()) * (kClockKhz / 1.0e6)); }

void cp_async16(void* dst, const void* src) {
  Fiber& f = *block_run().current;
  if (reinterpret_cast<uintptr_t>(dst) % 16 || reinterpret_cast<uintptr_t>(src) % 16)
    trap("cp.async of 16 bytes from or to an address not 16-byte aligned");
  PendingCopy c;
  c.dst = dst;
  std::memcpy(c.data, src, sizeof c.data);  // the source is read now ...
  c.group = f.groups_committed;
  f.copies.push_back(c);  // ... and lands at cp.async.wait_group
}

void cp_async_commit() { ++block_run().current->groups_committed; }

void cp_async_wait(int pending) {
  Fiber& f = *block_run().current;
  const unsigned done = f.groups_committed >= static_cast<unsigned>(pending) ? f.groups_committed - pending : 0;
  apply_copies(f, done);
}

void* dynamic_smem() { return block_run().dynamic_smem.data(); }

void poison_shared(void* address, size_t bytes) {
  BlockRun& b = block_run();
  if (std::find(b.poisoned.begin(), b.poisoned.end(), address) != b.poisoned.end()) return;
  b.poisoned.push_back(address);
  std::memset(address, 0xFF, bytes);
  b.static_smem += bytes;
  if (b.static_smem + b.dynamic_smem.size() > kSmemOptinLimit)  // the launch itself would fail
    trap(("static (" + std::to_string(b.static_smem) + " bytes) plus dynamic (" +
          std::to_string(b.dynamic_smem.size()) + " bytes) shared memory exceed the " +
          std::to_string(kSmemOptinLimit) + " bytes a block may have")
             .c_str());
}

void launch_erased(const char* name, const void* kernel, const LaunchConfig& config, std::function<void()> body) {
  launch_log.add(name);
  const uint64_t threads = uint64_t{config.block.x} * config.block.y * config.block.z;
  std::string bad;
  if (threads == 0 || threads > kMaxThreadsPerBlock || config.block.z > 64)
    bad = "block of " + dim_string(make_uint3(config.block.x, config.block.y, config.block.z)) +
          " threads (1 to 1024, z <= 64)";
  else if (config.grid.x == 0 || config.grid.y == 0 || config.grid.z == 0 || config.grid.y > 65535 ||
           config.grid.z > 65535)
    bad = "grid of " + dim_string(make_uint3(config.grid.x, config.grid.y, config.grid.z)) + " blocks";
  if (!bad.empty()) {
    set_launch_error(cudaErrorInvalidConfiguration, std::string(name) + ": invalid launch: " + bad);
    return;
  }
  const size_t smem_limit = max_dynamic_smem(kernel);
  if (config.dynamic_smem > smem_limit) {
    set_launch_error(cudaErrorInvalidValue,
                     std::string(name) + ": " + std::to_string(config.dynamic_smem) +
                         " bytes of dynamic shared memory exceed the kernel's limit of " +
                         std::to_string(smem_limit) + " (cudaFuncSetAttribute raises it)");
    return;
  }
  const std::string kernel_name = name;
  enqueue(config.stream, [kernel_name, config, body = std::move(body)]() {
    std::lock_guard<std::mutex> one_launch_at_a_time(launch_mutex);
    ++launch_sequence;
    install_fault_handlers();
    BlockRun block;
    for (unsigned z = 0; z < config.grid.z; ++z)
      for (unsigned y = 0; y < config.grid.y; ++y)
        for (unsigned x = 0; x < config.grid.x; ++x) {
          std::string error = run_block(block, body, config, make_uint3(x, y, z));
          if (!error.empty()) {
            set_launch_error(cudaErrorLaunchFailure, kernel_name + ": " + error);
            return;
          }
        }
    std::string error = check_allocation_tails();
    if (!error.empty()) set_launch_error(cudaErrorLaunchFailure, kernel_name + ": " + error);
  });
}

}  // namespace emu
