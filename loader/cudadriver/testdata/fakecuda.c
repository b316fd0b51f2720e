/* A stand-in for the CUDA driver library (libcuda.so.1), built by the
   tests of loader/cudadriver and cmd/int8cal with gcc -shared -fPIC so
   that the binding, int8cal doctor and --backend cuda can be tested on a
   machine without a GPU. It exports every entry point cudadriver.Open
   binds, with the signatures of cuda.h.

   It behaves as one known device, changed through the environment, which
   is read at each call (so a test's t.Setenv takes effect):
     FAKECUDA_VERSION  what cuDriverGetVersion reports (default 13000)
     FAKECUDA_DEVICES  the device count (default 1); with 0, cuInit fails
                       with CUDA_ERROR_NO_DEVICE, as the real driver does
                       on a machine with the driver but no GPU
   Every device is "Fake GPU": compute capability 9.0, 132 SMs, 80 GiB.
   Device memory is host memory, so copies can be checked; it cannot run
   code, so loading a module fails with CUDA_ERROR_NOT_SUPPORTED.

   Built with -DOMIT_LAUNCH it lacks cuLaunchKernel, to test how a driver
   without a required symbol is refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
	SUCCESS = 0,
	INVALID_VALUE = 1,
	NOT_INITIALIZED = 3,
	NO_DEVICE = 100,
	INVALID_DEVICE = 101,
	NOT_SUPPORTED = 801,
};

static int initialized;

static int env_int(const char *name, int def) {
	const char *s = getenv(name);
	return s && *s ? atoi(s) : def;
}

static int device_count(void) { return env_int("FAKECUDA_DEVICES", 1); }

/* check_device is the precondition of every per-device call: the real
   driver refuses calls before cuInit and ordinals it does not have. */
static int check_device(int dev) {
	if (!initialized)
		return NOT_INITIALIZED;
	return dev >= 0 && dev < device_count() ? SUCCESS : INVALID_DEVICE;
}

int cuInit(unsigned int flags) {
	if (flags != 0)
		return INVALID_VALUE;
	if (device_count() == 0)
		return NO_DEVICE;
	initialized = 1;
	return SUCCESS;
}

int cuDriverGetVersion(int *version) {
	if (!version)
		return INVALID_VALUE;
	*version = env_int("FAKECUDA_VERSION", 13000);
	return SUCCESS;
}

int cuGetErrorName(int code, const char **s) {
	switch (code) {
	case SUCCESS: *s = "CUDA_SUCCESS"; break;
	case NO_DEVICE: *s = "CUDA_ERROR_NO_DEVICE"; break;
	case NOT_SUPPORTED: *s = "CUDA_ERROR_NOT_SUPPORTED"; break;
	default: *s = "CUDA_ERROR_FAKE"; break;
	}
	return SUCCESS;
}

int cuGetErrorString(int code, const char **s) {
	switch (code) {
	case SUCCESS: *s = "no error"; break;
	case NO_DEVICE: *s = "no CUDA-capable device is detected"; break;
	case NOT_SUPPORTED: *s = "operation not supported"; break;
	default: *s = "an error of the fake CUDA driver"; break;
	}
	return SUCCESS;
}

int cuDeviceGetCount(int *n) {
	if (!initialized)
		return NOT_INITIALIZED;
	*n = device_count();
	return SUCCESS;
}

int cuDeviceGet(int *dev, int ordinal) {
	int rc = check_device(ordinal);
	if (rc == SUCCESS)
		*dev = ordinal;
	return rc;
}

int cuDeviceGetName(char *name, int len, int dev) {
	int rc = check_device(dev);
	if (rc != SUCCESS)
		return rc;
	if (len <= 0)
		return INVALID_VALUE;
	strncpy(name, "Fake GPU", len - 1);
	name[len - 1] = 0;
	return SUCCESS;
}

int cuDeviceGetAttribute(int *v, int attr, int dev) {
	int rc = check_device(dev);
	if (rc != SUCCESS)
		return rc;
	switch (attr) {
	case 16: *v = 132; return SUCCESS; /* MULTIPROCESSOR_COUNT */
	case 75: *v = 9; return SUCCESS;   /* COMPUTE_CAPABILITY_MAJOR */
	case 76: *v = 0; return SUCCESS;   /* COMPUTE_CAPABILITY_MINOR */
	}
	return INVALID_VALUE;
}

int cuDeviceTotalMem_v2(size_t *bytes, int dev) {
	int rc = check_device(dev);
	if (rc == SUCCESS)
		*bytes = (size_t)80 << 30;
	return rc;
}

/* The primary context is a non-null token; there is one per device. */
int cuDevicePrimaryCtxRetain(uintptr_t *ctx, int dev) {
	int rc = check_device(dev);
	if (rc == SUCCESS)
		*ctx = (uintptr_t)dev + 1;
	return rc;
}

int cuDevicePrimaryCtxRelease_v2(int dev) { return check_device(dev); }

int cuCtxSetCurrent(uintptr_t ctx) {
	(void)ctx;
	return initialized ? SUCCESS : NOT_INITIALIZED;
}

int cuCtxSynchronize(void) { return initialized ? SUCCESS : NOT_INITIALIZED; }

/* Device pointers are host pointers, 256-byte aligned as cuMemAlloc's. */
int cuMemAlloc_v2(uint64_t *p, size_t bytes) {
	void *m;
	if (!initialized)
		return NOT_INITIALIZED;
	if (bytes == 0)
		return INVALID_VALUE;
	if (posix_memalign(&m, 256, bytes) != 0)
		return 2; /* CUDA_ERROR_OUT_OF_MEMORY */
	*p = (uint64_t)(uintptr_t)m;
	return SUCCESS;
}

int cuMemFree_v2(uint64_t p) {
	free((void *)(uintptr_t)p);
	return SUCCESS;
}

int cuMemcpyHtoD_v2(uint64_t dst, const void *src, size_t n) {
	memcpy((void *)(uintptr_t)dst, src, n);
	return SUCCESS;
}

int cuMemcpyDtoH_v2(void *dst, uint64_t src, size_t n) {
	memcpy(dst, (const void *)(uintptr_t)src, n);
	return SUCCESS;
}

int cuMemcpyDtoD_v2(uint64_t dst, uint64_t src, size_t n) {
	memmove((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, n);
	return SUCCESS;
}

int cuMemsetD8_v2(uint64_t dst, unsigned char v, size_t n) {
	memset((void *)(uintptr_t)dst, v, n);
	return SUCCESS;
}

/* Page-locked host memory is plain memory here; "asynchronous" copies
 * complete at once. */
int cuMemAllocHost_v2(void **p, size_t bytes) {
	if (!initialized)
		return NOT_INITIALIZED;
	if (bytes == 0)
		return INVALID_VALUE;
	*p = malloc(bytes);
	return *p ? SUCCESS : 2;
}

int cuMemFreeHost(void *p) {
	free(p);
	return SUCCESS;
}

int cuMemcpyHtoDAsync_v2(uint64_t dst, const void *src, size_t n, uintptr_t s) {
	(void)s;
	return cuMemcpyHtoD_v2(dst, src, n);
}

int cuMemcpyDtoHAsync_v2(void *dst, uint64_t src, size_t n, uintptr_t s) {
	(void)s;
	return cuMemcpyDtoH_v2(dst, src, n);
}

/* The fake runs no code: modules and kernels are not supported. */
int cuModuleLoadData(uintptr_t *m, const void *image) {
	(void)m;
	(void)image;
	return NOT_SUPPORTED;
}

int cuModuleGetFunction(uintptr_t *f, uintptr_t m, const char *name) {
	(void)f;
	(void)m;
	(void)name;
	return NOT_SUPPORTED;
}

int cuModuleUnload(uintptr_t m) {
	(void)m;
	return NOT_SUPPORTED;
}

#ifndef OMIT_LAUNCH
int cuLaunchKernel(uintptr_t f, unsigned gx, unsigned gy, unsigned gz,
                   unsigned bx, unsigned by, unsigned bz, unsigned shared,
                   uintptr_t stream, void **params, void **extra) {
	(void)f; (void)gx; (void)gy; (void)gz; (void)bx; (void)by; (void)bz;
	(void)shared; (void)stream; (void)params; (void)extra;
	return NOT_SUPPORTED;
}
#endif

int cuFuncSetAttribute(uintptr_t f, int attr, int v) {
	(void)f;
	(void)attr;
	(void)v;
	return NOT_SUPPORTED;
}

/* Streams exist (a counter stands in for the handle) and are always
   idle; graphs cannot be recorded, since nothing runs. */
static uintptr_t streams;

int cuStreamCreate(uintptr_t *s, unsigned flags) {
	(void)flags;
	if (!initialized) return NOT_INITIALIZED;
	*s = ++streams;
	return SUCCESS;
}

int cuStreamDestroy_v2(uintptr_t s) { (void)s; return SUCCESS; }

int cuStreamSynchronize(uintptr_t s) { (void)s; return SUCCESS; }

int cuStreamBeginCapture_v2(uintptr_t s, int mode) { (void)s; (void)mode; return NOT_SUPPORTED; }

int cuStreamEndCapture(uintptr_t s, uintptr_t *g) { (void)s; (void)g; return NOT_SUPPORTED; }

int cuGraphInstantiateWithFlags(uintptr_t *exec, uintptr_t g, unsigned long long flags) {
	(void)exec; (void)g; (void)flags;
	return NOT_SUPPORTED;
}

int cuGraphLaunch(uintptr_t exec, uintptr_t s) { (void)exec; (void)s; return NOT_SUPPORTED; }

int cuGraphExecDestroy(uintptr_t exec) { (void)exec; return SUCCESS; }

int cuGraphDestroy(uintptr_t g) { (void)g; return SUCCESS; }
