# gpu.mk: the GPU kernels' arithmetic (src/gpu/gpu_math.h) run on the CPU
# against src/simd, included by the Makefile like pq.mk.  Plain gcc: no
# nvcc or device needed.
all: test_gpu_math
run: run-gpu-math
sanitize: sanitize-gpu-math
clean: clean-gpu-math

test_gpu_math: test_gpu_math.c unit.h $(TOP)/src/gpu/gpu_math.h $(SIMD_SRCS) $(wildcard $(TOP)/src/simd/*.h)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ test_gpu_math.c $(SIMD_SRCS) -lm

run-gpu-math: test_gpu_math
	./test_gpu_math

sanitize-gpu-math:
	clang $(CPPFLAGS) -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
		-o test_gpu_math_san test_gpu_math.c $(SIMD_SRCS) -lm
	./test_gpu_math_san

clean-gpu-math:
	rm -f test_gpu_math test_gpu_math_san

.PHONY: run-gpu-math sanitize-gpu-math clean-gpu-math
