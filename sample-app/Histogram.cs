using System;
using System.IO;

namespace ExecSnoop;

/// <summary>A log2 histogram printed like bcc's print_log2_hist.</summary>
internal sealed class Log2Histogram
{
    private readonly long[] _slots = new long[64];
    private long _count;

    public long Count => _count;

    public void Add(ulong value)
    {
        int slot = value == 0 ? 0 : 64 - System.Numerics.BitOperations.LeadingZeroCount(value);
        _slots[Math.Min(slot, 63)]++;
        _count++;
    }

    public void Write(TextWriter w, string unit)
    {
        int last = -1;
        long max = 0;
        for (int i = 0; i < _slots.Length; i++)
        {
            if (_slots[i] > 0) last = i;
            max = Math.Max(max, _slots[i]);
        }
        if (last < 0)
        {
            w.WriteLine($"no process lifetimes recorded");
            return;
        }
        const int width = 40;
        w.WriteLine($"{unit,20}{string.Empty,-16}: count    distribution");
        for (int i = 0; i <= last; i++)
        {
            ulong low = i == 0 ? 0 : 1UL << (i - 1);
            ulong high = i == 0 ? 1 : (1UL << i) - 1;
            int stars = max == 0 ? 0 : (int)(_slots[i] * width / max);
            w.WriteLine($"{low,20} -> {high,-12}: {_slots[i],-8} |{new string('*', stars),-width}|");
        }
    }
}
