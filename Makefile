# Thin wrapper around meson/ninja for the README commands and CI.
BUILD ?= build
WORK ?= _work
MESON_FLAGS ?=

.PHONY: all deps build demo check check-unit check-integration check-asan fuzz bench clean

all: build

deps:
	bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_FLAGS)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(WORK)/busybox/rootfs/bin/busybox:
	bash scripts/make-busybox-rootfs.sh $(WORK)/busybox/rootfs

busybox: $(WORK)/busybox/rootfs/bin/busybox

# The demo: run the embedded busybox image with arca-runtime.
demo: build busybox
	bash scripts/demo.sh $(BUILD) $(WORK)/busybox

check-unit: build
	meson test -C $(BUILD) --suite unit --print-errorlogs

check-integration: build busybox
	bash tests/integration/run.sh $(BUILD) $(WORK)

# Everything CI runs; prints "N passed, N failed" last.
check: build busybox
	bash tests/run-all.sh $(BUILD) $(WORK)

check-asan:
	meson setup $(BUILD)-asan -Db_sanitize=address,undefined -Db_lundef=false $(MESON_FLAGS) >/dev/null 2>&1 || true
	ninja -C $(BUILD)-asan
	meson test -C $(BUILD)-asan --suite unit --print-errorlogs

fuzz:
	CC=clang meson setup $(BUILD)-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false >/dev/null 2>&1 || true
	ninja -C $(BUILD)-fuzz
	bash tests/fuzz/run.sh $(BUILD)-fuzz 30

bench: build busybox
	bash bench/runtime-start.sh $(BUILD) $(WORK)

# A real Debian kernel under arca-vmm with real hardware virtualization:
# inside a QEMU TCG VM with emulated AMD SVM (tests/vm-linux/run.sh). Needs root.
.PHONY: check-vm-linux
check-vm-linux:
	bash tests/vm-linux/run.sh $(BUILD)-static $(WORK)

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-fuzz $(WORK)
