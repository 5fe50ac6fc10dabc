using System;
using System.Collections.Generic;

namespace Ebpf;

/// <summary>
/// Several links made by one attach call (a program on every CPU's perf event, a USDT probe at each of its call
/// sites): disposing the group disposes each.
/// </summary>
public class LinkGroup : BpfLink
{
    private readonly BpfLink[] _links;
    private readonly string _target;

    internal LinkGroup(BpfProgram program, IReadOnlyList<BpfLink> links, string target) : base(program)
    {
        _links = new BpfLink[links.Count];
        for (int i = 0; i < _links.Length; i++)
        {
            _links[i] = links[i];
            _links[i].LeaveOwner(); // the object keeps the group, which disposes its members
        }
        _target = target;
    }

    /// <summary>The member links.</summary>
    public IReadOnlyList<BpfLink> Links => _links;

    /// <inheritdoc/>
    public override string Target => _target;

    /// <summary>Whether every member link is still attached.</summary>
    public override bool IsAttached
    {
        get
        {
            if (IsDisposed) return false;
            foreach (var l in _links)
                if (!l.IsAttached) return false;
            return true;
        }
    }

    private protected override void DetachCore()
    {
        List<Exception>? errors = null;
        foreach (var l in _links)
        {
            try { l.Detach(); }
            catch (Exception e) when (e is BpfException or NotSupportedException) { (errors ??= new List<Exception>()).Add(e); }
        }
        if (errors != null)
            throw new AggregateException($"detaching {Target} failed for {errors.Count} of {_links.Length} links", errors);
    }

    private protected override void Release()
    {
        List<Exception>? errors = null;
        for (int i = _links.Length - 1; i >= 0; i--)
        {
            try { _links[i].Dispose(); }
            catch (Exception e) when (e is BpfException) { (errors ??= new List<Exception>()).Add(e); }
        }
        ReleaseGroup();
        if (errors != null)
            throw new AggregateException($"releasing {Target} failed for {errors.Count} of {_links.Length} links", errors);
    }

    /// <summary>What the group itself holds beyond its links.</summary>
    private protected virtual void ReleaseGroup() { }
}
