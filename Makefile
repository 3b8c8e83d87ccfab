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
# added, so a fresh install and an upgraded one cannot drift apart.  0.1.0
# was not relocatable (its script names @extschema@): its own control file
# says so, overriding vecx.control for that version.
DATA = sql/$(EXTENSION)--0.1.0.sql sql/$(EXTENSION)--0.1.0.control
UPGRADE_0_2_0_PARTS = sql/upgrade/0.1.0--0.2.0.sql \
	sql/install/25_distcost.sql sql/install/30_sparsevec.sql sql/install/35_bit.sql \
	sql/install/51_hnsw_shared.sql sql/install/52_hnsw_types.sql sql/install/62_ivfflat.sql \
	sql/install/66_range.sql \
	sql/install/92_tools.sql sql/install/93_gpu.sql \
	sql/install/94_stat.sql

# Every sql/*.sql except install scripts is a pg_regress test.
REGRESS = $(patsubst sql/%.sql,%,$(sort $(filter-out sql/$(EXTENSION)--%.sql sql/vector--%.sql,$(wildcard sql/*.sql))))
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

EXTRA_CLEAN = sql/$(EXTENSION)--$(EXTVERSION).sql sql/$(EXTENSION)--0.1.0--0.2.0.sql \
	$(VECTOR_NAME_DATA) test/vecname/fake_pgvector.so \
	test/vecname/results test/vecname/regression.diffs test/vecname/regression.out

# vecx under pgvector's extension name (make install-vector-name): a control
# file and install script of its own, generated from the same pieces and
# loading the same library, so CREATE EXTENSION vector creates exactly the
# objects of CREATE EXTENSION vecx.  Not installed by plain `make install`:
# on a server that has pgvector it would replace pgvector's vector.control.
VECTOR_NAME_DATA = vector.control sql/vector--$(EXTVERSION).sql

# The optional GPU library, vecx_gpu.so: built by nvcc when it is on PATH
# (WITH_CUDA=0 skips it, WITH_CUDA=1 insists) and installed beside vecx.so,
# which dlopens it on first use (src/gpu/gpu.h) and never links CUDA.
# -fmad=false: the device rounds src/gpu/gpu_math.h as the host does.
# The CUDA runtime is linked statically, so only the driver is needed.
NVCC ?= nvcc
WITH_CUDA ?= $(if $(shell command -v $(NVCC) 2>/dev/null),1,0)
NVCC_ARCH ?= -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=[sm_90,compute_90]
NVCC_FLAGS = -O2 -fmad=false -Xcompiler -fPIC -Xcompiler -Wall $(NVCC_ARCH)
GPU_LIB = vecx_gpu.so
EXTRA_CLEAN += src/gpu/gpu_cuda.o $(GPU_LIB)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The TAP tests' shared module, test/perl/VecxTest.pm.  Added to
# PG_PROVE_FLAGS after the include: Makefile.global empties PROVE_FLAGS,
# which is left to the user (PROVE_FLAGS=--verbose).
PG_PROVE_FLAGS += -I $(srcdir)/test/perl

# Generating a script: from 0.2.0 on the extension is relocatable (ALTER
# EXTENSION ... SET SCHEMA), and PostgreSQL does not substitute @extschema@
# in a relocatable extension's scripts, so the qualifiers the pieces carry
# are stripped.  The unqualified names resolve to the same objects: the
# script runs with search_path set to the target schema alone (pg_catalog
# implicitly before it, pg_temp after it), every reference is resolved to
# an oid when its object is created, and no member has a body that is
# looked up later (C functions and internal aggregates only; the
# security_install test checks both).  The two names of the extension are
# filled in ($(1) this one, $(2) the other).  A placeholder left over fails
# the build rather than the CREATE EXTENSION.
define vecx_gen_script
	cat $(filter %.sql,$^) | sed -e 's/@extschema@\.//g' \
		-e 's/@vecx_name@/$(1)/g' -e 's/@vecx_other@/$(2)/g' > $@.tmp
	@if grep -n -E '@extschema@|@vecx_[a-z_]*@' $@.tmp >&2; then \
		echo "$@: placeholder left in the generated script (lines above); qualify with @extschema@. only" >&2; \
		rm -f $@.tmp; exit 1; fi
	mv $@.tmp $@
endef

sql/$(EXTENSION)--$(EXTVERSION).sql: $(INSTALL_PARTS) Makefile
	$(call vecx_gen_script,vecx,vector)

sql/$(EXTENSION)--0.1.0--0.2.0.sql: $(UPGRADE_0_2_0_PARTS) Makefile
	$(call vecx_gen_script,vecx,vector)

sql/vector--$(EXTVERSION).sql: $(INSTALL_PARTS) Makefile
	$(call vecx_gen_script,vector,vecx)

vector.control: vecx.control
	sed -e 's/^# vecx extension/# vecx installed under the extension name vector (make install-vector-name)/' \
		-e "s/^comment = '/comment = 'vecx, installed as vector: /" $< > $@

# install-vector-name: install vecx, and the name vector beside it.  Refuses
# to replace a vector.control that is not ours (pgvector's): the two are
# mutually exclusive on one server installation.
.PHONY: install-vector-name uninstall-vector-name
install-vector-name: install $(VECTOR_NAME_DATA)
	@ctl='$(DESTDIR)$(datadir)/$(datamoduledir)/vector.control'; \
	if [ -f "$$ctl" ] && ! grep -q "^module_pathname = '\$$libdir/vecx'" "$$ctl"; then \
		echo "$$ctl belongs to another extension (pgvector?): vecx cannot be installed as vector beside it" >&2; \
		exit 1; fi
	$(INSTALL_DATA) $(VECTOR_NAME_DATA) '$(DESTDIR)$(datadir)/$(datamoduledir)/'

uninstall-vector-name:
	@ctl='$(DESTDIR)$(datadir)/$(datamoduledir)/vector.control'; \
	if [ -f "$$ctl" ] && ! grep -q "^module_pathname = '\$$libdir/vecx'" "$$ctl"; then \
		echo "$$ctl belongs to another extension: left alone" >&2; exit 1; fi
	rm -f $(addprefix '$(DESTDIR)$(datadir)/$(datamoduledir)'/,$(notdir $(VECTOR_NAME_DATA)))

# installcheck-vector-name: the suite of test/vecname against a running
# server that has the name installed (scripts/test.sh, stage vecname).  The
# migration test's database is restored first from a pgvector 0.8 dump with
# psql -v ON_ERROR_STOP=1, as a user would restore it: a failed statement
# fails the target.
VECNAME_REGRESS = $(patsubst test/vecname/sql/%.sql,%,$(sort $(wildcard test/vecname/sql/*.sql)))
VECNAME_MIGRATION_DB = regress_vecx_migration

.PHONY: installcheck-vector-name
installcheck-vector-name: test/vecname/fake_pgvector.so
	'$(bindir)/psql' -X -q -d postgres -c 'DROP DATABASE IF EXISTS $(VECNAME_MIGRATION_DB)' \
		-c 'CREATE DATABASE $(VECNAME_MIGRATION_DB)'
	'$(bindir)/psql' -X -q -v ON_ERROR_STOP=1 -d $(VECNAME_MIGRATION_DB) \
		-f test/migration/pgvector-0.8.sql >/dev/null
	$(pg_regress_installcheck) --inputdir=test/vecname --outputdir=test/vecname \
		--dbname=contrib_regression_vecname $(VECNAME_REGRESS)
	'$(bindir)/psql' -X -q -d postgres -c 'DROP DATABASE $(VECNAME_MIGRATION_DB)'

# The stand-in for pgvector's library in test/vecname (loaded by path,
# never installed).
test/vecname/fake_pgvector.so: test/vecname/fake_pgvector.c
	$(CC) $(CFLAGS) $(CFLAGS_SL) $(CPPFLAGS) -shared -o $@ $<

$(OBJS): $(wildcard src/*.h src/*/*.h src/am/*/*.h)

.PHONY: unittest
unittest:
	$(MAKE) -C test/unit PG_CONFIG=$(PG_CONFIG) run


ifeq ($(WITH_CUDA),1)
all: $(GPU_LIB)
install: install-gpu
uninstall: uninstall-gpu

src/gpu/gpu_cuda.o: src/gpu/gpu_cuda.cu src/gpu/gpu.h src/gpu/gpu_math.h
	$(NVCC) $(NVCC_FLAGS) -I$(srcdir)/src -c $< -o $@

$(GPU_LIB): src/gpu/gpu_cuda.o
	$(NVCC) -shared -cudart static $(NVCC_ARCH) -o $@ $<

.PHONY: install-gpu uninstall-gpu
install-gpu: $(GPU_LIB) installdirs
	$(INSTALL_SHLIB) $(GPU_LIB) '$(DESTDIR)$(pkglibdir)/$(GPU_LIB)'

uninstall-gpu:
	rm -f '$(DESTDIR)$(pkglibdir)/$(GPU_LIB)'
endif
