/* A stand-in for the CUDA driver library, built by the loader's tests:
   the two entry points the tests bind, with known answers. */
int cuInit(unsigned int flags) { return flags == 0 ? 0 : 1; }
int cuDriverGetVersion(int *version) { *version = 13000; return 0; }
