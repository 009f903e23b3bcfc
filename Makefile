# mmvm build. One Makefile, no generated sources.
#   make            release VMM: build/mmvm (static, so the nested-KVM harness
#                   can drop it into a bare initramfs)
#   make unit       unit tests under ASan+UBSan: build/san/tests/unit/test_*
#   make fuzz       libFuzzer targets (clang): build/fuzz/fuzz_*
#   make check-unit build and run every unit test
#   make hostile    the hostile bare-metal test guest: build/hostile/hostile.bzImage
#   make san-vmm    the VMM under ASan+UBSan: build/san/mmvm (dynamic)
# Sources are discovered, so adding a file never means editing this file:
# every src/**/*.c except src/main.c is library code shared by the VMM, the
# unit tests and the fuzzers.

CC        ?= cc
CLANG     ?= clang
BUILD     ?= build
WARN      := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CPPFLAGS  := -Isrc -D_GNU_SOURCE
CSTD      := -std=gnu11
OPT       ?= -O2 -g
# json-c (libjson-c-dev): the --config-file and API bodies (src/api/)
LIBS      := -ljson-c

LIB_SRCS  := $(filter-out src/main.c,$(shell find src -name '*.c' | sort))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
HDRS      := $(shell find src tests -name '*.h')

REL_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/rel/%.o)
SAN_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/san/%.o)
FUZZ_OBJS := $(LIB_SRCS:%.c=$(BUILD)/fuzzlib/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/san/tests/unit/%)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)

SANFLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -DMMVM_FUZZING

.PHONY: all unit fuzz check-unit clean hostile san-vmm
.SECONDARY:
all: $(BUILD)/mmvm $(BUILD)/hostile/hostile.bzImage

$(BUILD)/mmvm: $(REL_OBJS) $(BUILD)/rel/src/main.o
	$(CC) $(OPT) -static -pthread -o $@ $^ $(LIBS)

$(BUILD)/rel/%.o: %.c $(HDRS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(OPT) $(CPPFLAGS) -pthread -c -o $@ $<

$(BUILD)/san/%.o: %.c $(HDRS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O1 -g $(SANFLAGS) $(CPPFLAGS) -pthread -c -o $@ $<

$(BUILD)/san/tests/unit/%: tests/unit/%.c $(SAN_OBJS) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O1 -g $(SANFLAGS) $(CPPFLAGS) -Itests -pthread -o $@ $< $(SAN_OBJS) $(LIBS)

unit: $(UNIT_BINS)

check-unit: unit
	@scripts/run-unit-tests $(UNIT_BINS)

$(BUILD)/fuzzlib/%.o: %.c $(HDRS) Makefile
	@mkdir -p $(dir $@)
	$(CLANG) $(CSTD) $(WARN) -O1 -g $(FUZZFLAGS) $(CPPFLAGS) -c -o $@ $<

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJS) $(HDRS)
	@mkdir -p $(dir $@)
	$(CLANG) $(CSTD) $(WARN) -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -DMMVM_FUZZING $(CPPFLAGS) -Itests -pthread -o $@ $< $(FUZZ_OBJS) $(LIBS)

fuzz: $(FUZZ_BINS)

# The hostile guest (tests/hostile/): freestanding 64-bit code linked at
# 1 MiB, flattened, and given a bzImage header so mmvm boots it as a kernel.
HOSTILE_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -O2 -ffreestanding \
	-fno-pic -fno-pie -no-pie -mno-red-zone -mgeneral-regs-only \
	-fno-stack-protector -fno-asynchronous-unwind-tables -nostdlib -static

$(BUILD)/hostile/hostile.elf: tests/hostile/hostile.c tests/hostile/hostile.ld Makefile
	@mkdir -p $(dir $@)
	$(CC) $(HOSTILE_CFLAGS) -Wl,-T,tests/hostile/hostile.ld -Wl,--build-id=none -Wl,--no-warn-rwx-segments -o $@ $<

$(BUILD)/hostile/hostile.bin: $(BUILD)/hostile/hostile.elf
	objcopy -O binary $< $@

$(BUILD)/hostile/mkbzimage: tests/hostile/mkbzimage.c $(HDRS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O1 $(CPPFLAGS) -Itests -o $@ $<

$(BUILD)/hostile/hostile.bzImage: $(BUILD)/hostile/hostile.bin $(BUILD)/hostile/mkbzimage
	$(BUILD)/hostile/mkbzimage $< $@

hostile: $(BUILD)/hostile/hostile.bzImage

$(BUILD)/san/mmvm: $(SAN_OBJS) $(BUILD)/san/src/main.o
	$(CC) -O1 -g $(SANFLAGS) -pthread -o $@ $^ $(LIBS)

san-vmm: $(BUILD)/san/mmvm

clean:
	rm -rf $(BUILD)
