using System.Runtime.CompilerServices;

namespace RegistryKit.Internal;

/// <summary>
/// A lock for sections of a few dozen nanoseconds on hot paths: one compare-and-swap to enter, one store to leave,
/// and when taken, <see cref="SpinWait"/>'s escalation (spin, yield, then sleep a millisecond at a time). It keeps no
/// owner and is not reentrant, so nothing that could call back may run under it. <see cref="Lock"/> costs about
/// 20 ns a round trip on the machine the benchmarks run on (an owner to record, a thread-local to read), more than the
/// sections this guards (docs/benchmarks.md).
/// </summary>
/// <remarks>A mutable struct: keep it in a field that is not <see langword="readonly"/>, and never copy it.</remarks>
internal struct SpinGate
{
    private int _taken;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Enter()
    {
        if (Interlocked.CompareExchange(ref _taken, 1, 0) != 0)
        {
            EnterContended();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Exit() => Volatile.Write(ref _taken, 0);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EnterContended()
    {
        var spinner = default(SpinWait);
        do
        {
            spinner.SpinOnce();
        }
        while (Volatile.Read(ref _taken) != 0 || Interlocked.CompareExchange(ref _taken, 1, 0) != 0);
    }
}
