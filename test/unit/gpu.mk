# gpu.mk: the GPU kernels' arithmetic (src/gpu/gpu_math.h) run on the CPU
# against src/simd, and test/gpu/test_gpu.c's device checks run against
# test/gpu/gpu_emul.c (the entry points emulated on the CPU), included by
# the Makefile like pq.mk.  Plain gcc: no nvcc or device needed.
all: test_gpu_math test_gpu_emul
run: run-gpu-math
sanitize: sanitize-gpu-math
clean: clean-gpu-math

GPU_EMUL_SRCS = $(TOP)/test/gpu/test_gpu.c $(TOP)/test/gpu/gpu_emul.c

test_gpu_math: test_gpu_math.c unit.h $(TOP)/src/gpu/gpu_math.h $(SIMD_SRCS) $(wildcard $(TOP)/src/simd/*.h)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ test_gpu_math.c $(SIMD_SRCS) -lm

test_gpu_emul: $(GPU_EMUL_SRCS) $(TOP)/src/gpu/gpu.h $(TOP)/src/gpu/gpu_math.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $(GPU_EMUL_SRCS) -lm

run-gpu-math: test_gpu_math test_gpu_emul
	./test_gpu_math
	./test_gpu_emul 2>/dev/null

sanitize-gpu-math:
	clang $(CPPFLAGS) -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
		-o test_gpu_math_san test_gpu_math.c $(SIMD_SRCS) -lm
	./test_gpu_math_san
	clang $(CPPFLAGS) -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
		-o test_gpu_emul_san $(GPU_EMUL_SRCS) -lm
	./test_gpu_emul_san 2>/dev/null

clean-gpu-math:
	rm -f test_gpu_math test_gpu_math_san test_gpu_emul test_gpu_emul_san

.PHONY: run-gpu-math sanitize-gpu-math clean-gpu-math
