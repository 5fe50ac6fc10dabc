using System;

namespace Ebpf;

/// <summary>
/// What every generated skeleton offers, whatever its object: the underlying <see cref="BpfObject"/> and the
/// load/attach/detach life cycle. Code that handles any skeleton (the hosting integration, tools) works through
/// this contract; code that knows its skeleton uses the generated class with its typed maps, programs and globals.
/// </summary>
public interface IBpfSkeleton : IDisposable
{
    /// <summary>The underlying object: maps, programs, data sections and links by name.</summary>
    BpfObject Object { get; }

    /// <summary>True once <see cref="Load"/> succeeded.</summary>
    bool IsLoaded { get; }

    /// <summary>Loads an opened skeleton into the kernel: CO-RE, maps, global data, programs.</summary>
    void Load();

    /// <summary>Attaches every loaded program whose section says where.</summary>
    void Attach();

    /// <summary>Removes the links <see cref="Attach"/> made; programs stay loaded.</summary>
    void Detach();
}

/// <summary>
/// The generated skeleton <typeparamref name="TSelf"/> as a type: how to open it without naming the class, so that
/// generic code (<c>services.AddBpfSkeleton&lt;TSkeleton&gt;()</c>) can create one. The generator makes every
/// skeleton class implement it.
/// </summary>
/// <typeparam name="TSelf">The generated skeleton class itself.</typeparam>
public interface IBpfSkeleton<TSelf> : IBpfSkeleton where TSelf : class, IBpfSkeleton<TSelf>
{
    /// <summary>
    /// Opens the object the skeleton was generated from (embedded in its assembly) without loading it: read-only
    /// globals, map sizes and programs' autoload can still be changed.
    /// </summary>
    /// <param name="options">Open and load options (logger, kernel BTF, pin root, ...); null for the defaults.</param>
    static abstract TSelf Open(BpfObjectOptions? options);
}
