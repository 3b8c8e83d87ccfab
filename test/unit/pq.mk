# pq.mk: unit test of the PQ fast-scan kernels (src/simd/pq*.c), included
# by the Makefile; adds test_pq to "all", "run", "sanitize" and "clean".
PQ_SRCS = $(TOP)/src/simd/pq_fastscan.c $(TOP)/src/simd/pq_fastscan_avx2.c

all: test_pq
run: run-pq
sanitize: sanitize-pq
clean: clean-pq

test_pq: test_pq.c $(PQ_SRCS) $(TOP)/src/simd/pq.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ test_pq.c $(PQ_SRCS)

run-pq: test_pq
	./test_pq

sanitize-pq:
	clang $(CPPFLAGS) -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
		-o test_pq_san test_pq.c $(PQ_SRCS)
	./test_pq_san

clean-pq:
	rm -f test_pq test_pq_san

.PHONY: run-pq sanitize-pq clean-pq
