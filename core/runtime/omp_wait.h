#pragma once
// The OpenMP wait policy of the CPU thread pools. LibTorch's elementwise ops run on libgomp's pool
// while its matrix products (Debian's LibTorch: OpenBLAS, pthreads build) run on OpenBLAS's own
// threads. With libgomp's default policy a pool thread spins for ~300k iterations after every
// parallel region, so during the next matrix product it takes a core from OpenBLAS's workers:
// perf on the issue-16 CPU run (austen-small GPTQ w3g128 + PPL, 2 cores) put 44% of all samples in
// libgomp's spin loop and only 21% in sgemm. OMP_WAIT_POLICY=PASSIVE (the pool sleeps at once)
// halved the CPU time of a 16-window `ptq ppl` with the same PPL. libgomp reads the variable once,
// when it is loaded, so the CLI sets it and executes itself again before doing anything else (a tool that
// does not follow exec, such as valgrind without --trace-children, needs OMP_WAIT_POLICY set by the user).
namespace ptq {

// What the process should do about the wait policy, given the environment: nothing when the user
// chose a policy (OMP_WAIT_POLICY or GOMP_SPINCOUNT set) or this is already the re-executed
// process (PTQ_OMP_REEXEC set); otherwise re-execute with OMP_WAIT_POLICY=PASSIVE.
bool should_reexec_for_passive_wait(const char* wait_policy, const char* spincount, const char* reexec_mark);

// Linux: sets OMP_WAIT_POLICY=PASSIVE and PTQ_OMP_REEXEC=1 and executes /proc/self/exe with argv
// when should_reexec_for_passive_wait says so; returns only when nothing was done or exec failed
// (the process then runs on with libgomp's default policy).
void reexec_with_passive_omp_wait(char** argv);

// The policy in effect as the environment states it ("PASSIVE", "ACTIVE", or "default").
const char* omp_wait_policy_name();

}  // namespace ptq
