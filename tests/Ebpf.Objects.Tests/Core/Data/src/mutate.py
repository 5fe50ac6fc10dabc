import struct, sys

class Obj:
    def __init__(self, path):
        self.b = bytearray(open(path,'rb').read())
        b = self.b
        shoff, = struct.unpack_from('<Q', b, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from('<HHH', b, 0x3a)
        self.secs = []
        for i in range(shnum):
            o = shoff + i*shentsize
            name, typ, flags, addr, off, size = struct.unpack_from('<IIQQQQ', b, o)
            self.secs.append([name, typ, flags, off, size])
        stro = self.secs[shstrndx][3]
        for s in self.secs:
            n = s[0]; e = b.index(0, stro+n); s.append(b[stro+n:e].decode())
        self.btf = self.sec('.BTF'); self.ext = self.sec('.BTF.ext')
        bo = self.btf[3]
        hl, to, tl, so, sl = struct.unpack_from('<IIIII', b, bo+4)
        self.str_start = bo + hl + so; self.str_len = sl
        eo = self.ext[3]
        ehl, = struct.unpack_from('<I', b, eo+4)
        co, cl = struct.unpack_from('<II', b, eo+24)
        p = eo + ehl + co; end = p + cl
        rs, = struct.unpack_from('<I', b, p); p += 4
        self.relos = []  # (secname, idx, offset)
        while p < end:
            nameoff, num = struct.unpack_from('<II', b, p); p += 8
            sname = self.string(nameoff)
            for i in range(num):
                self.relos.append((sname, i, p)); p += rs
    def sec(self, name):
        for s in self.secs:
            if s[5] == name: return s
    def string(self, off):
        s = self.str_start + off; e = self.b.index(0, s); return self.b[s:e].decode()
    def relo(self, sec, idx):
        for (s, i, o) in self.relos:
            if s == sec and i == idx:
                insn_off, type_id, acc, kind = struct.unpack_from('<IIII', self.b, o)
                return o, insn_off, type_id, acc, kind
        raise KeyError((sec, idx))
    def insn_at(self, sec, insn_off):
        return self.sec(sec)[3] + insn_off
    def set_imm(self, sec, idx, fn):
        o, io, *_ = self.relo(sec, idx); p = self.insn_at(sec, io)
        v, = struct.unpack_from('<i', self.b, p+4); struct.pack_into('<i', self.b, p+4, fn(v))
    def set_off(self, sec, idx, fn):
        o, io, *_ = self.relo(sec, idx); p = self.insn_at(sec, io)
        v, = struct.unpack_from('<h', self.b, p+2); struct.pack_into('<h', self.b, p+2, fn(v))
    def set_code(self, sec, idx, fn):
        o, io, *_ = self.relo(sec, idx); p = self.insn_at(sec, io)
        self.b[p] = fn(self.b[p])
    def set_relo(self, sec, idx, type_id=None, kind=None, access=None):
        o, io, t, a, k = self.relo(sec, idx)
        if type_id is not None: struct.pack_into('<I', self.b, o+4, type_id)
        if access is not None: struct.pack_into('<I', self.b, o+8, self.find_string(access))
        if kind is not None: struct.pack_into('<I', self.b, o+12, kind)
    def find_string(self, s):
        data = bytes(self.b[self.str_start:self.str_start+self.str_len])
        i = data.find(b'\0' + s.encode() + b'\0')
        if i < 0: raise KeyError(s)
        return i + 1
    def replace_string(self, old, new):
        assert len(old) == len(new)
        off = self.find_string(old)
        self.b[self.str_start+off:self.str_start+off+len(old)] = new.encode()
    def save(self, path):
        open(path,'wb').write(self.b)
    def dump(self):
        for (s, i, o) in self.relos:
            insn_off, type_id, acc, kind = struct.unpack_from('<IIII', self.b, o)
            print(s, i, insn_off//8, type_id, self.string(acc), kind)
