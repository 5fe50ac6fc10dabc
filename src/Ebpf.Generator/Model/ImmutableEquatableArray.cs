using System;
using System.Collections;
using System.Collections.Generic;

namespace Ebpf.Generator.Model;

/// <summary>
/// An immutable array with value equality, for incremental-generator models (as System.Text.Json's generator does):
/// two arrays are equal when they hold equal elements in the same order.
/// </summary>
internal sealed class ImmutableEquatableArray<T> : IEquatable<ImmutableEquatableArray<T>>, IReadOnlyList<T>
    where T : IEquatable<T>
{
    public static ImmutableEquatableArray<T> Empty { get; } = new ImmutableEquatableArray<T>(Array.Empty<T>());

    private readonly T[] _values;

    public ImmutableEquatableArray(IEnumerable<T> values) => _values = new List<T>(values).ToArray();

    private ImmutableEquatableArray(T[] values) => _values = values;

    public T this[int index] => _values[index];

    public int Count => _values.Length;

    public bool Equals(ImmutableEquatableArray<T>? other)
    {
        if (ReferenceEquals(this, other)) return true;
        if (other is null || other._values.Length != _values.Length) return false;
        var cmp = EqualityComparer<T>.Default;
        for (int i = 0; i < _values.Length; i++)
        {
            if (!cmp.Equals(_values[i], other._values[i])) return false;
        }
        return true;
    }

    public override bool Equals(object? obj) => obj is ImmutableEquatableArray<T> other && Equals(other);

    public override int GetHashCode()
    {
        unchecked
        {
            int hash = 17;
            foreach (var v in _values)
                hash = hash * 31 + (v is null ? 0 : v.GetHashCode());
            return hash;
        }
    }

    public Enumerator GetEnumerator() => new Enumerator(_values);

    IEnumerator<T> IEnumerable<T>.GetEnumerator() => ((IEnumerable<T>)_values).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _values.GetEnumerator();

    public struct Enumerator
    {
        private readonly T[] _values;
        private int _index;

        internal Enumerator(T[] values)
        {
            _values = values;
            _index = -1;
        }

        public bool MoveNext() => ++_index < _values.Length;

        public readonly T Current => _values[_index];
    }
}

internal static class ImmutableEquatableArray
{
    public static ImmutableEquatableArray<T> ToImmutableEquatableArray<T>(this IEnumerable<T> values) where T : IEquatable<T> =>
        new ImmutableEquatableArray<T>(values);

    public static ImmutableEquatableArray<T> Create<T>(params T[] values) where T : IEquatable<T> =>
        values.Length == 0 ? ImmutableEquatableArray<T>.Empty : new ImmutableEquatableArray<T>(values);
}

/// <summary>Bytes with value equality (content compared, hash cached): the decoded object or kernel BTF in a model.</summary>
internal sealed class EquatableBytes : IEquatable<EquatableBytes>
{
    private readonly byte[] _data;
    private readonly int _hash;

    public EquatableBytes(byte[] data)
    {
        _data = data ?? throw new ArgumentNullException(nameof(data));
        // FNV-1a over the whole content: cheap next to decoding, and collisions only cost a comparison.
        unchecked
        {
            uint h = 2166136261;
            foreach (byte b in data)
                h = (h ^ b) * 16777619;
            _hash = (int)h ^ data.Length;
        }
    }

    public int Length => _data.Length;

    public ReadOnlyMemory<byte> Memory => _data;

    /// <summary>The bytes. Do not modify them.</summary>
    public byte[] GetArrayUnsafe() => _data;

    public bool Equals(EquatableBytes? other) =>
        other is not null && (ReferenceEquals(this, other) || (other._hash == _hash && other._data.AsSpan().SequenceEqual(_data)));

    public override bool Equals(object? obj) => obj is EquatableBytes other && Equals(other);

    public override int GetHashCode() => _hash;
}
