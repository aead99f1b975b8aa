/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca test guest: entry points and start-up.  Every path reaches
 * common64, which loads the guest's own GDT and page tables (identity map of
 * 4 GiB) and calls guest_main in 64-bit kernel mode.
 *
 * Why it stays in kernel mode: on kvm_pvm a guest that reaches 64-bit mode
 * is converted to PVM "supervisor mode"; its instructions are emulated there
 * (measured: about 3 us each), and user mode, although native, can only be
 * entered and left through PVM's own ABI (ERETU and the PVCS page): a plain
 * IRETQ/SYSCALL/SYSRETQ does not switch modes, and port I/O from user mode
 * faults.  So the guest keeps its instruction count small instead: a boot
 * with its checks is a few thousand instructions.
 *
 * Layout (bzImage payload = this image from 0x100000):
 *   0x100000  32-bit boot protocol entry (not supported: halts)
 *   0x100200  64-bit boot protocol entry, %rsi = boot_params
 *   entry_pvh   PVH entry (ELF note), 32-bit protected mode, %ebx = start_info
 *   entry_elf64 ELF e_entry, 64-bit mode, %rsi = boot_params */

#define PATH_LINUX64 1
#define PATH_PVH 2
#define PATH_ELF64 3

#define SEL_KCODE 0x08
#define AP_TRAMP_ADDR 0x8000

        .section .text.head, "ax"
        .code32
        .globl entry_boot32
entry_boot32:
1:      hlt
        jmp 1b

        .org 0x200
        .code64
        .globl entry_linux64
entry_linux64:
        mov $PATH_LINUX64, %edi
        jmp common64

        .text
        .code64
        .globl entry_elf64
entry_elf64:
        mov $PATH_ELF64, %edi
        jmp common64

        .code32
        .globl entry_pvh
entry_pvh:
        mov %ebx, %esi
        mov $pml4, %eax
        mov %eax, %cr3
        mov %cr4, %eax
        or $0x20, %eax                  /* PAE */
        mov %eax, %cr4
        mov $0xc0000080, %ecx           /* EFER.LME */
        rdmsr
        or $0x100, %eax
        wrmsr
        mov %cr0, %eax
        or $0x80000001, %eax            /* PG | PE */
        mov %eax, %cr0
        lgdt gdt_desc
        ljmp $SEL_KCODE, $pvh64
        .code64
pvh64:
        mov $PATH_PVH, %edi
        /* fall through */

common64:
        lea stack_top(%rip), %rsp
        lgdt gdt_desc(%rip)
        mov $pml4, %eax
        mov %rax, %cr3
        call guest_main                 /* (path, boot info) in %rdi, %rsi */
1:      hlt
        jmp 1b

        /* Application processor start-up (the "smp" check).  The BSP
           copies ap_tramp..ap_tramp_end to 0x8000 and sends INIT + SIPI
           vector 0x08; the AP starts there in real mode, enters protected
           mode on this GDT, then long mode on the same page tables, counts
           itself in ap_alive and halts. */
        .globl ap_tramp, ap_tramp_end
        .code16
ap_tramp:
        cli
        xorw %ax, %ax
        movw %ax, %ds
        lgdtl (ap_gdt_desc - ap_tramp + AP_TRAMP_ADDR)
        movl %cr0, %eax
        orl $1, %eax
        movl %eax, %cr0
        ljmpl $0x18, $ap32
        .balign 4
ap_gdt_desc:
        .word gdt_end - gdt - 1
        .long gdt
ap_tramp_end:

        .code32
ap32:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        mov $pml4, %eax
        mov %eax, %cr3
        mov %cr4, %eax
        or $0x20, %eax
        mov %eax, %cr4
        mov $0xc0000080, %ecx
        rdmsr
        or $0x100, %eax
        wrmsr
        mov %cr0, %eax
        or $0x80000001, %eax
        mov %eax, %cr0
        ljmp $SEL_KCODE, $ap64
        .code64
ap64:
        lock incl ap_alive(%rip)
1:      cli
        hlt
        jmp 1b

        .globl ap_alive
        .section .data
        .balign 4
ap_alive:
        .long 0

        .section .rodata
        .balign 16
gdt:
        .quad 0
        .quad 0x00af9a000000ffff        /* 0x08 kernel code, 64-bit */
        .quad 0x00cf92000000ffff        /* 0x10 kernel data */
        .quad 0x00cf9a000000ffff        /* 0x18 kernel code, 32-bit (AP start-up) */
gdt_end:
        .balign 8
gdt_desc:
        .word gdt_end - gdt - 1
        .quad gdt

        /* Identity map of the low 4 GiB, 2 MiB pages: built by the
           assembler so the guest spends no instructions on it. */
        .section .data.pagetables, "aw"
        .balign 4096
pml4:
        .quad pdpt + 0x3
        .fill 511, 8, 0
pdpt:
        .quad pd + 0x0003
        .quad pd + 0x1003
        .quad pd + 0x2003
        .quad pd + 0x3003
        .fill 508, 8, 0
pd:
        .set i, 0
        .rept 2048
        .quad (i << 21) | 0x83          /* P | RW | PS */
        .set i, i + 1
        .endr

        .section .note.Xen, "a"
        .balign 4
        .long 4                         /* namesz */
        .long 4                         /* descsz */
        .long 18                        /* XEN_ELFNOTE_PHYS32_ENTRY */
        .asciz "Xen"
        .long entry_pvh

        .section .bss
        .balign 16
        .space 16384
stack_top:

        .section .note.GNU-stack, "", @progbits
