import os, sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mutate import Obj
T='tp/syscalls/sys_enter_getpid'; B='tp_btf/sched_switch'
o = Obj('adv_fields_c14.bpf.o')
o.set_imm('.text', 0, lambda v: v + 1)
o.set_imm(T, 0, lambda v: -1)
o.set_code(T, 1, lambda c: c | 0x08)
o.set_code(T, 2, lambda c: 0x05)
o.set_imm(T, 6, lambda v: v + 100)
o.set_code(B, 0, lambda c: (c & ~0x18) | 0x10)
o.set_off(B, 2, lambda v: v + 1)
o.set_off(B, 4, lambda v: -8)
o.set_off(B, 27, lambda v: v + 2)
o.save('mut_values.bpf.o')

o = Obj('adv_fields_c14.bpf.o')
o.set_relo(T, 3, access='0:125:15')
o.set_relo(T, 4, kind=8)
o.set_relo(T, 5, kind=10)
o.set_relo(T, 7, type_id=2)
o.set_relo(T, 9, type_id=2, kind=9)
o.set_relo(T, 10, kind=6)
o.replace_string('0:19:23:7', '0:19::3:7')
o.replace_string('0:247:1', '0 247 1')
o.replace_string('0:125:15', '0:125:-1')
o.replace_string('0:55:3', '0:55: ')
o.replace_string('0:1:3', '1:1:3')
o.replace_string('0:1:1', '0:1:9')
o.replace_string('0:125:1', '0:126:1')
o.save('mut_specs.bpf.o')

o = Obj('adv_fields_c14.bpf.o')
o.set_relo(B, 29, type_id=0)
o.save('mut_void.bpf.o')

o = Obj('adv_types_c19.bpf.o')

o = Obj('adv_types_c19.bpf.o')
S='syscall'
o.set_imm(S, 38, lambda v: 5)
o.set_off(S, 39, lambda v: 1)
o.set_imm(S, 42, lambda v: 77)
o.set_relo(S, 41, access='1')
o.set_relo(S, 0, access='1')
o.set_imm(S, 31, lambda v: 12345)   # target_type_id: not validated
o.set_imm(S, 34, lambda v: 54321)   # local_type_id: not validated
o.set_imm(S, 26, lambda v: 3)       # type_size: validated
o.save('mut_types.bpf.o')
