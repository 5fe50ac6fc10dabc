using System;
using System.Buffers.Binary;
using System.Collections.Generic;

namespace Ebpf.Btf;

/// <summary>A type record as words: the 12-byte header split into fields, and the kind-specific words.</summary>
internal sealed class BtfRawRecord
{
    public int Id { get; internal set; }
    public uint NameOffset { get; set; }
    public BtfKind Kind { get; set; }
    public int Vlen { get; set; }
    public bool KindFlag { get; set; }
    public uint SizeOrType { get; set; }
    /// <summary>Kind-specific words (members, enumerators, parameters, var info, ...). Resize with <see cref="SetExtra"/>.</summary>
    public uint[] Extra { get; private set; } = Array.Empty<uint>();

    public void SetExtra(uint[] words) => Extra = words ?? throw new ArgumentNullException(nameof(words));

    public static BtfRawRecord Read(BtfSpec spec, int id)
    {
        var r = spec.GetRecord(id);
        uint info = BinaryPrimitives.ReadUInt32LittleEndian(r.Slice(4));
        var extra = new uint[(r.Length - 12) / 4];
        for (int i = 0; i < extra.Length; i++)
            extra[i] = BinaryPrimitives.ReadUInt32LittleEndian(r.Slice(12 + i * 4));
        return new BtfRawRecord
        {
            Id = id,
            NameOffset = BinaryPrimitives.ReadUInt32LittleEndian(r),
            Kind = (BtfKind)((info >> 24) & 0x1f),
            Vlen = (int)(info & 0xffff),
            KindFlag = (info >> 31) != 0,
            SizeOrType = BinaryPrimitives.ReadUInt32LittleEndian(r.Slice(8)),
            Extra = extra,
        };
    }
}

/// <summary>
/// Rewrites a spec's own types in place: type ids and existing string offsets stay the same (so .BTF.ext records
/// still apply), new strings and new types may be appended.
/// </summary>
internal sealed class BtfRewriter
{
    private readonly BtfSpec _spec;
    private readonly BtfRawRecord[] _records;
    private readonly List<BtfRawRecord> _appended = new List<BtfRawRecord>();
    private readonly BtfBuilder _builder;

    public BtfRewriter(BtfSpec spec)
    {
        _spec = spec ?? throw new ArgumentNullException(nameof(spec));
        _records = new BtfRawRecord[spec.OwnTypeCount];
        for (int i = 0; i < _records.Length; i++)
            _records[i] = BtfRawRecord.Read(spec, spec.FirstTypeId + i);
        _builder = new BtfBuilder(spec.Base, spec.OwnStrings);
    }

    public BtfSpec Spec => _spec;

    /// <summary>The record of an own type.</summary>
    public BtfRawRecord this[int id] => id >= _spec.FirstTypeId && id < _spec.TypeCount
        ? _records[id - _spec.FirstTypeId]
        : id >= _spec.TypeCount && id - _spec.TypeCount < _appended.Count ? _appended[id - _spec.TypeCount] : throw new ArgumentOutOfRangeException(nameof(id));

    /// <summary>Adds (or finds) a string and returns its offset.</summary>
    public int AddString(string s) => _builder.AddString(s);

    /// <summary>Appends a new type after all existing ones; returns its id.</summary>
    public int Append(uint nameOffset, BtfKind kind, int vlen, bool kindFlag, uint sizeOrType, uint[] extra)
    {
        var r = new BtfRawRecord { Id = _spec.TypeCount + _appended.Count, NameOffset = nameOffset, Kind = kind, Vlen = vlen, KindFlag = kindFlag, SizeOrType = sizeOrType };
        r.SetExtra(extra);
        _appended.Add(r);
        return r.Id;
    }

    public byte[] Build()
    {
        foreach (var r in _records)
            _builder.AddRaw((int)r.NameOffset, r.Kind, r.Vlen, r.KindFlag, r.SizeOrType, r.Extra);
        foreach (var r in _appended)
            _builder.AddRaw((int)r.NameOffset, r.Kind, r.Vlen, r.KindFlag, r.SizeOrType, r.Extra);
        return _builder.Build();
    }
}
