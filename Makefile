# Makefile for the vecx PostgreSQL extension (PGXS)

EXTENSION = vecx
EXTVERSION := $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(dir $(lastword $(MAKEFILE_LIST)))vecx.control)

MODULE_big = vecx
SRCS = $(sort $(wildcard src/*.c src/types/*.c src/simd/*.c src/am/*/*.c src/gpu/*.c))
OBJS = $(SRCS:.c=.o)

# The install script is assembled from sql/install/NN_*.sql so each module
# owns its own piece; the pieces are concatenated in file-name order.
INSTALL_PARTS = $(sort $(wildcard sql/install/*.sql))
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql sql/$(EXTENSION)--0.1.0--0.2.0.sql

# Released install scripts are frozen (installable with CREATE EXTENSION
# ... VERSION); upgrade scripts are assembled from the pieces each version
# added, so a fresh install and an upgraded one cannot drift apart.
DATA = sql/$(EXTENSION)--0.1.0.sql
UPGRADE_0_2_0_PARTS = sql/upgrade/0.1.0--0.2.0.sql \
	sql/install/30_sparsevec.sql sql/install/35_bit.sql sql/install/62_ivfflat.sql

# Every sql/*.sql except install scripts is a pg_regress test.
REGRESS = $(patsubst sql/%.sql,%,$(sort $(filter-out sql/$(EXTENSION)--%.sql,$(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)

# Isolation specs in test/isolation/specs, run with the pg_regress tests.
ISOLATION = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --load-extension=$(EXTENSION)

TAP_TESTS = 1
PROVE_TESTS = $(sort $(wildcard test/tap/*.pl))

# Warnings we care about on top of the server's flags.  No -march: SIMD
# variants use function target attributes and are chosen at run time.
PG_CPPFLAGS = -I$(srcdir)/src
PG_CFLAGS = -Wextra -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers -Wno-cast-function-type
SHLIB_LINK = -lopenblas -lm

EXTRA_CLEAN = sql/$(EXTENSION)--$(EXTVERSION).sql sql/$(EXTENSION)--0.1.0--0.2.0.sql

# Optional CUDA kernels: make WITH_CUDA=1 (needs nvcc).  The runtime is
# linked statically so the library loads on hosts without a driver.
ifeq ($(WITH_CUDA),1)
NVCC ?= nvcc
CUDA_HOME ?= $(abspath $(dir $(shell command -v $(NVCC)))..)
PG_CPPFLAGS += -DVECX_WITH_CUDA
# Linked as an extra object rather than listed in OBJS: PGXS would want
# LLVM bitcode for every OBJS entry, and nvcc makes none.
SHLIB_LINK += src/gpu/gpu_cuda.o -L$(CUDA_HOME)/lib64 -lcudart_static -ldl -lrt -lpthread -lstdc++
EXTRA_CLEAN += src/gpu/gpu_cuda.o
endif

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The TAP tests' shared module, test/perl/VecxTest.pm.  Added to
# PG_PROVE_FLAGS after the include: Makefile.global empties PROVE_FLAGS,
# which is left to the user (PROVE_FLAGS=--verbose).
PG_PROVE_FLAGS += -I $(srcdir)/test/perl

sql/$(EXTENSION)--$(EXTVERSION).sql: $(INSTALL_PARTS)
	cat $^ > $@

sql/$(EXTENSION)--0.1.0--0.2.0.sql: $(UPGRADE_0_2_0_PARTS)
	cat $^ > $@

$(OBJS): $(wildcard src/*.h src/*/*.h src/am/*/*.h)

.PHONY: unittest
unittest:
	$(MAKE) -C test/unit PG_CONFIG=$(PG_CONFIG) run


ifeq ($(WITH_CUDA),1)
$(shlib): src/gpu/gpu_cuda.o
src/gpu/gpu_cuda.o: src/gpu/gpu_cuda.cu src/gpu/gpu.h
	$(NVCC) -O2 -Xcompiler -fPIC -I$(srcdir)/src -c $< -o $@
endif
