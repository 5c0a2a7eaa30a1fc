// OpenMP helpers that also compile without OpenMP (then everything runs on one thread).
#pragma once
#ifdef _OPENMP
#include <omp.h>
#endif

namespace benchsuite::parallel {

// Threads a parallel region would get (the team size to allocate per-thread scratch for).
inline int max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}
// This thread's index inside the current team (0 outside a parallel region).
inline int thread_id() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}
// Threads in the current team.
inline int team_size() {
#ifdef _OPENMP
  return omp_get_num_threads();
#else
  return 1;
#endif
}

}  // namespace benchsuite::parallel
