using System;
using System.Collections;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>
/// The keys of a map, walked with BPF_MAP_GET_NEXT_KEY. <c>foreach</c> over it does not allocate.
/// </summary>
/// <remarks>
/// The walk reads the key after the current one before handing the current one out, so deleting the current key
/// inside the loop is safe and visits every other key once. If the key read ahead is deleted meanwhile (by a
/// program, another thread, or the loop deleting keys other than the current one), it is still handed out, and
/// the kernel continues the walk from the first key, as it does for bpftool: keys already seen may then be seen
/// again. Keys inserted behind the walk's position during the walk are not seen.
/// </remarks>
public readonly struct BpfMapKeys<TKey> : IEnumerable<TKey> where TKey : unmanaged
{
    private readonly BpfMap _map;

    internal BpfMapKeys(BpfMap map) => _map = map;

    /// <summary>Starts a walk.</summary>
    public Enumerator GetEnumerator() => new Enumerator(_map);

    IEnumerator<TKey> IEnumerable<TKey>.GetEnumerator() => GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Copies the keys into a new array (one walk).</summary>
    public TKey[] ToArray()
    {
        var list = new List<TKey>();
        foreach (var k in this) list.Add(k);
        return list.ToArray();
    }

    /// <summary>A walk over the keys.</summary>
    public struct Enumerator : IEnumerator<TKey>
    {
        private readonly BpfMap _map;
        private TKey _current, _next;
        private byte _state; // 0 = not started, 1 = _next holds the next key, 2 = no next key, 3 = finished

        internal Enumerator(BpfMap map)
        {
            _map = map;
            _current = default;
            _next = default;
            _state = 0;
        }

        /// <summary>The current key.</summary>
        public readonly TKey Current => _current;

        readonly object IEnumerator.Current => _current;

        /// <summary>Moves to the next key; false at the end of the map.</summary>
        public unsafe bool MoveNext()
        {
            if (_map == null) return false;
            if (_state == 0)
                _state = Advance(null) ? (byte)1 : (byte)3;
            if (_state != 1)
            {
                _state = 3;
                return false;
            }
            _current = _next;
            // Read ahead, so that the caller may delete the current key.
            fixed (TKey* c = &_current)
                _state = Advance(c) ? (byte)1 : (byte)2;
            return true;
        }

        private unsafe bool Advance(TKey* from)
        {
            int r;
            fixed (TKey* n = &_next)
                r = _map.GetNextKeyRaw(from, n);
            if (r == 0) return true;
            if (r == -Errno.ENOENT) return false;
            throw _map.ElementError(BpfCommand.MapGetNextKey, -r);
        }

        /// <summary>Starts over from the first key.</summary>
        public void Reset()
        {
            _state = 0;
            _current = default;
        }

        /// <summary>Nothing to release.</summary>
        public readonly void Dispose() { }
    }
}

/// <summary>
/// The elements of a map: its keys (walked as <see cref="BpfMapKeys{TKey}"/> does) each with its value looked up.
/// A key deleted between the walk and the lookup is skipped, as bpftool does. <c>foreach</c> over it does not
/// allocate.
/// </summary>
public readonly struct BpfMapEntries<TKey, TValue> : IEnumerable<KeyValuePair<TKey, TValue>>
    where TKey : unmanaged
    where TValue : unmanaged
{
    private readonly BpfMap _map;

    internal BpfMapEntries(BpfMap map) => _map = map;

    /// <summary>Starts a walk.</summary>
    public Enumerator GetEnumerator() => new Enumerator(_map);

    IEnumerator<KeyValuePair<TKey, TValue>> IEnumerable<KeyValuePair<TKey, TValue>>.GetEnumerator() => GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Copies the elements into a new dictionary (one walk).</summary>
    public Dictionary<TKey, TValue> ToDictionary()
    {
        var d = new Dictionary<TKey, TValue>();
        foreach (var kv in this) d[kv.Key] = kv.Value;
        return d;
    }

    /// <summary>A walk over the elements.</summary>
    public struct Enumerator : IEnumerator<KeyValuePair<TKey, TValue>>
    {
        private BpfMapKeys<TKey>.Enumerator _keys;
        private readonly BpfMap _map;
        private TValue _value;

        internal Enumerator(BpfMap map)
        {
            _map = map;
            _keys = new BpfMapKeys<TKey>.Enumerator(map);
            _value = default;
        }

        /// <summary>The current element.</summary>
        public readonly KeyValuePair<TKey, TValue> Current => new KeyValuePair<TKey, TValue>(_keys.Current, _value);

        readonly object IEnumerator.Current => Current;

        /// <summary>Moves to the next element; false at the end of the map.</summary>
        public unsafe bool MoveNext()
        {
            while (_keys.MoveNext())
            {
                TKey key = _keys.Current;
                int r;
                fixed (TValue* v = &_value)
                    r = _map.LookupRaw(&key, v, 0);
                if (r == 0) return true;
                if (r != -Errno.ENOENT)
                    throw _map.ElementError(BpfCommand.MapLookupElem, -r);
            }
            return false;
        }

        /// <summary>Starts over from the first element.</summary>
        public void Reset() => _keys.Reset();

        /// <summary>Nothing to release.</summary>
        public readonly void Dispose() { }
    }
}
