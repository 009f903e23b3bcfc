#!/usr/bin/env bash
# mmvm's ACPI tables as ACPICA sees them: tests/unit/test_acpi writes one
# representative platform's tables (2 CPUs; virtio at 0xd0000000,
# 0xd0002000, 0xd0004000, size 0x2000, GSIs 5, 6, 7; COM1; the i8042 keyboard (PNP0303); pvpanic at
# 0x505; sleep control/status 0x600/0x601; reset 0x602 value 1) and this
# decodes them with iasl -d and checks what it prints: the devices and
# their resources, \_S5, the FADT's hardware-reduced flag and registers,
# the MADT's APICs, and no checksum or other warnings. Then the
# disassembly is recompiled (iasl -oa, no optimizations) and must give
# back the same AML, and acpiexec, when there, loads the tables and
# evaluates a few objects. Needs acpica-tools (exit 77 without iasl);
# neither KVM nor root.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if ! command -v iasl >/dev/null 2>&1; then
	skip "no iasl (install acpica-tools)"
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
unit=$repo/build/san/tests/unit/test_acpi

if (cd "$repo" && make -s build/san/tests/unit/test_acpi) >"$work/make.log" 2>&1; then
	pass "built $unit"
else
	fail "make build/san/tests/unit/test_acpi:"; sed 's/^/    | /' "$work/make.log"
	finish
fi
mkdir "$work/t"
if MMVM_ACPI_DUMP_DIR="$work/t" "$unit" >"$work/unit.log" 2>&1 &&
   [ -s "$work/t/dsdt.dat" ] && [ -s "$work/t/facp.dat" ] &&
   [ -s "$work/t/apic.dat" ] && [ -s "$work/t/xsdt.dat" ] &&
   [ -s "$work/t/rsdp.dat" ]; then
	pass "test_acpi wrote rsdp, xsdt, facp, apic, dsdt ($(tail -n 1 "$work/unit.log"))"
else
	fail "test_acpi with MMVM_ACPI_DUMP_DIR:"; sed 's/^/    | /' "$work/unit.log"
	finish
fi
cd "$work/t" || exit 1

# bytes FILE: the file's bytes as decimal numbers, one per line.
bytes() { od -An -v -tu1 "$1" | tr -s ' ' '\n' | grep .; }
# sum8 FILE [COUNT]: the first COUNT bytes (all) summed mod 256.
sum8() { bytes "$1" | head -n "${2:-999999}" | awk '{ s += $1 } END { print s % 256 }'; }

# iasl cannot decode a bare RSDP, so check it here.
if [ "$(head -c 8 rsdp.dat)" = "RSD PTR " ] && [ "$(sum8 rsdp.dat 20)" = 0 ] &&
   [ "$(sum8 rsdp.dat 36)" = 0 ] && [ "$(bytes rsdp.dat | sed -n 16p)" = 2 ]; then
	pass "RSDP: signature, revision 2, ACPI 1.0 and extended checksums"
else
	fail "RSDP: $(od -An -tx1 rsdp.dat | tr -d '\n')"
fi

iasl -d dsdt.dat facp.dat apic.dat xsdt.dat >iasl.log 2>&1
rc=$?
if [ "$rc" = 0 ] && [ -s dsdt.dsl ] && [ -s facp.dsl ] && [ -s apic.dsl ] && [ -s xsdt.dsl ]; then
	pass "iasl -d decoded dsdt, facp, apic, xsdt"
else
	fail "iasl -d exited $rc:"; sed 's/^/    | /' iasl.log
	finish
fi
if ! grep -iE 'warning|error|incorrect|invalid' iasl.log ./*.dsl >"$work/complaints"; then
	pass "iasl: no warnings, errors or bad checksums"
else
	fail "iasl complained:"; sed 's/^/    | /' "$work/complaints"
fi

# device NAME: the disassembly of Device (NAME), up to the next device or
# the end of its scope.
device() {
	awk -v d="Device ($1)" '
		index($0, d) { on = 1; print; next }
		on && (index($0, "Device (") || /^    }/) { exit }
		on { print }' dsdt.dsl
}
# has WHAT TEXT PATTERN...: every fixed-string PATTERN is in TEXT.
has() {
	local what=$1 text=$2 p
	shift 2
	for p in "$@"; do
		if ! grep -qF -- "$p" <<<"$text"; then
			fail "$what: no '$p' in:"; sed 's/^/    | /' <<<"$text"
			return
		fi
	done
	pass "$what: $(printf '%s\n' "$@" | paste -sd '|')"
}

has "DSDT" "$(cat dsdt.dsl)" 'DefinitionBlock ("", "DSDT", 2, "MMVM  ", "MMVMVM  "' \
	'Scope (\_SB)'
for i in 0 1 2; do
	has "VR0$i" "$(device VR0$i)" 'Name (_HID, "LNRO0005")' \
		"Memory32Fixed (ReadWrite," "0xD000$((2 * i))000,         // Address Base" \
		"0x00002000,         // Address Length" \
		"Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive, ,, )" \
		"0x0000000$((5 + i)),"
done
has "VR00 _UID" "$(device VR00)" "Name (_UID, Zero)"
has "COM1" "$(device COM1)" 'Name (_HID, EisaId ("PNP0501")' 'Name (_UID, One)' \
	"IO (Decode16," "0x03F8,             // Range Minimum" \
	"0x08,               // Length" "IRQNoFlags ()" "{4}"
has "PEVT" "$(device PEVT)" 'Name (_HID, "QEMU0001")' "IO (Decode16," \
	"0x0505,             // Range Minimum" "0x0505,             // Range Maximum" \
	"0x01,               // Length"
has "KBD0" "$(device KBD0)" 'Name (_HID, EisaId ("PNP0303")' \
	"0x0060,             // Range Minimum" "0x0064,             // Range Minimum" \
	"IRQNoFlags ()" "{1}"
s5=$(grep -A6 'Name (\\_S5, Package (0x04)' dsdt.dsl | tr -d ' \n')
if [ "$s5" = "Name(\\_S5,Package(0x04)//_S5_:S5SystemState{0x05,Zero,Zero,Zero})" ]; then
	pass "\\_S5: Package (4) { 5, 0, 0, 0 }"
else
	fail "\\_S5: '$s5'"
fi
n=$(grep -c 'Device (' dsdt.dsl)
[ "$n" = 6 ] && pass "DSDT: 6 devices" || fail "DSDT: $n devices, want 6"

# field FILE LABEL: the value iasl prints for the first "LABEL : value".
field() { grep -m1 -F "$2 :" "$1" | sed 's/.*: *//'; }
# gas FILE NAME: the Address line of the Generic Address Structure NAME.
gas() { grep -A5 -F "$2 : [Generic Address Structure]" "$1" | grep -F "Address :" | sed 's/.*: *//'; }

f_check() {
	local what=$1 got=$2 want=$3
	if [ "$got" = "$want" ]; then pass "$what: $got"; else fail "$what: '$got', want '$want'"; fi
}
f_check "FADT length" "$(field facp.dsl 'Table Length')" 00000114
f_check "FADT revision" "$(field facp.dsl 'Revision')" 06
f_check "FADT minor revision" "$(field facp.dsl 'FADT Minor Revision')" 05
f_check "FADT Hardware Reduced (V5)" "$(field facp.dsl 'Hardware Reduced (V5)')" 1
f_check "FADT Reset Register Supported" "$(field facp.dsl 'Reset Register Supported (V2)')" 1
f_check "FADT no fixed power button" "$(field facp.dsl 'Control Method Power Button (V1)')" 1
f_check "FADT no fixed sleep button" "$(field facp.dsl 'Control Method Sleep Button (V1)')" 1
f_check "FADT VGA Not Present" "$(field facp.dsl 'VGA Not Present (V4)')" 1
f_check "FADT 8042 present" "$(field facp.dsl '8042 Present on ports 60/64 (V2)')" 1
f_check "FADT CMOS RTC present" "$(field facp.dsl 'CMOS RTC Not Present (V5)')" 0
f_check "FADT MSI supported" "$(field facp.dsl 'MSI Not Supported (V4)')" 0
f_check "FADT SCI interrupt" "$(field facp.dsl 'SCI Interrupt')" 0000
f_check "FADT sleep control register" "$(gas facp.dsl 'Sleep Control Register')" 0000000000000600
f_check "FADT sleep status register" "$(gas facp.dsl 'Sleep Status Register')" 0000000000000601
f_check "FADT reset register" "$(gas facp.dsl 'Reset Register')" 0000000000000602
f_check "FADT reset value" "$(field facp.dsl 'Value to cause reset')" 01
dsdt32=$(grep -F 'DSDT Address :' facp.dsl | sed -n 1p | sed 's/.*: *//')
dsdt64=$(grep -F 'DSDT Address :' facp.dsl | sed -n 2p | sed 's/.*: *//')
if [ -n "$dsdt32" ] && [ "$((16#$dsdt32))" != 0 ] && [ "$((16#$dsdt32))" = "$((16#$dsdt64))" ]; then
	pass "FADT DSDT and X_DSDT: $dsdt32, $dsdt64"
else
	fail "FADT DSDT '$dsdt32', X_DSDT '$dsdt64'"
fi

n=$(grep -c 'Subtable Type : 00 \[Processor Local APIC\]' apic.dsl)
f_check "MADT local APICs" "$n" 2
f_check "MADT I/O APIC" "$(grep -A4 'Subtable Type : 01 \[I/O APIC\]' apic.dsl | grep -F 'Address :' | sed 's/.*: *//')" FEC00000
f_check "MADT local APIC address" "$(field apic.dsl 'Local Apic Address')" FEE00000
f_check "MADT PC-AT compatible" "$(field apic.dsl 'PC-AT Compatibility')" 1
n=$(grep -c 'Subtable Type : 02 \[Interrupt Source Override\]' apic.dsl)
f_check "MADT interrupt source overrides (IRQ 0 and GSIs 5, 6, 7)" "$n" 4
f_check "MADT local APIC NMI on LINT1" "$(field apic.dsl 'Interrupt Input LINT')" 01
f_check "XSDT entries" "$(grep -c 'ACPI Table Address' xsdt.dsl)" 2

# The disassembly recompiled without optimizations is the same AML.
if iasl -oa -p re dsdt.dsl >recompile.log 2>&1 &&
   cmp -s <(tail -c +37 dsdt.dat) <(tail -c +37 re.aml); then
	pass "iasl -oa recompiles the disassembly to identical AML ($(wc -c <re.aml) bytes)"
else
	fail "recompiled AML differs:"; sed 's/^/    | /' recompile.log
fi

# ACPICA's interpreter loads the tables and evaluates objects.
if command -v acpiexec >/dev/null 2>&1; then
	timeout 60 acpiexec -b 'evaluate \_S5; evaluate \_SB.VR02._CRS; evaluate \_SB.COM1._HID' \
		facp.dat apic.dat dsdt.dat </dev/null >exec.log 2>&1
	rc=$?
	if [ "$rc" = 0 ] && ! grep -qiE 'warning|error|exception' exec.log &&
	   grep -q 'Contains 4 Elements' exec.log &&
	   grep -q '86 09 00 01 00 40 00 D0 00 20 00 00 89 06 00 01' exec.log &&
	   grep -q '000000000105D041' exec.log; then
		pass "acpiexec: loads FADT, MADT, DSDT; evaluates \\_S5, VR02._CRS, COM1._HID"
	else
		fail "acpiexec exited $rc:"; sed 's/^/    | /' exec.log
	fi
else
	echo "NOTE $name: no acpiexec, interpreter check not run"
fi

finish
