/* A library the fake libnvinfer needs, found only in its wheel tree. */
int fake_cudart(void) { return 0; }
