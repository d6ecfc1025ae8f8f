using System.Diagnostics;
using System.Runtime.InteropServices;

namespace RegistryKit.Timers;

/// <summary>
/// A Linux futex: a wait until an instant of <see cref="Stopwatch"/>'s clock, to the microsecond, that another thread
/// can cut short. The wheel's wake-up thread uses it because every managed wait (<see cref="Monitor.Wait(object, int)"/>,
/// <see cref="Thread.Sleep(int)"/>, wait handles) takes whole milliseconds, so a wake-up asked for at an arbitrary
/// instant came up to a millisecond late; a futex takes the instant itself (docs/timer.md).
/// </summary>
/// <remarks>
/// <para>
/// Only on Linux on x64 and Arm64, where <see cref="Stopwatch.GetTimestamp"/> reads <c>CLOCK_MONOTONIC</c> in
/// nanoseconds, the clock a futex's absolute timeout is measured on. <see cref="TryCreate"/> returns
/// <see langword="null"/> anywhere else, and the caller waits with <see cref="Monitor.Wait(object, int)"/>.
/// </para>
/// <para>
/// The protocol is a sequence number: a waiter reads <see cref="Sequence"/> before it decides to wait, and
/// <see cref="Wait"/> returns at once if <see cref="Wake"/> has moved it since, so no wake-up is lost between the two.
/// Every return (the instant, a wake, a signal) leaves the caller to look at its state again.
/// </para>
/// </remarks>
internal sealed class Futex
{
    // linux/futex.h
    private const int FutexWaitBitset = 9;
    private const int FutexWake = 1;
    private const int FutexPrivateFlag = 128;
    private const int FutexBitsetMatchAny = -1;

    // asm-generic/errno-base.h and errno.h
    private const int EIntr = 4;
    private const int EAgain = 11;
    private const int ETimedOut = 110;

    private static readonly long s_futexSyscall = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 202,
        Architecture.Arm64 => 98,
        _ => -1,
    };

    // One int on the pinned object heap: the kernel knows it by its address, which must not move.
    private readonly int[] _word = GC.AllocateArray<int>(1, pinned: true);
    private readonly IntPtr _address;
    private bool _broken;

    private Futex()
    {
        _address = Marshal.UnsafeAddrOfPinnedArrayElement(_word, 0);
    }

    /// <summary>Gets the value a waiter reads before it decides to wait.</summary>
    public int Sequence => Volatile.Read(ref _word[0]);

    /// <summary>
    /// Gets whether a call failed in a way the protocol does not expect (a kernel without futexes, a sandbox that
    /// forbids them): from then on <see cref="Wait"/> returns at once with <see langword="false"/>, and the caller
    /// falls back to a managed wait for good.
    /// </summary>
    public bool IsBroken => Volatile.Read(ref _broken);

    /// <summary>Returns a futex on Linux x64 and Arm64, or <see langword="null"/> where there is none to use.</summary>
    public static Futex? TryCreate()
    {
        if (!OperatingSystem.IsLinux() || s_futexSyscall < 0 || Stopwatch.Frequency != 1_000_000_000)
        {
            return null;
        }

        var futex = new Futex();
        try
        {
            // Waking nobody proves the call works here before anything relies on it.
            futex.Wake();
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }

        return futex.IsBroken ? null : futex;
    }

    /// <summary>
    /// Waits until <paramref name="untilTimestamp"/> (a <see cref="Stopwatch"/> timestamp), a <see cref="Wake"/>, or a
    /// signal, unless <see cref="Sequence"/> is no longer <paramref name="sequence"/>. Returns <see langword="false"/>
    /// only once the futex is <see cref="IsBroken"/>.
    /// </summary>
    public bool Wait(int sequence, long untilTimestamp)
    {
        if (IsBroken)
        {
            return false;
        }

        var until = new Timespec { Seconds = untilTimestamp / 1_000_000_000, Nanoseconds = untilTimestamp % 1_000_000_000 };
        long result = FutexWait(s_futexSyscall, _address, FutexWaitBitset | FutexPrivateFlag, sequence, ref until, IntPtr.Zero, FutexBitsetMatchAny);
        if (result == 0)
        {
            return true;
        }

        int error = Marshal.GetLastPInvokeError();
        if (error is ETimedOut or EAgain or EIntr)
        {
            return true;
        }

        Volatile.Write(ref _broken, true);
        return false;
    }

    /// <summary>Moves <see cref="Sequence"/> on and wakes the waiter, if one is waiting.</summary>
    public void Wake()
    {
        Interlocked.Increment(ref _word[0]);
        if (FutexWakeCall(s_futexSyscall, _address, FutexWake | FutexPrivateFlag, 1) < 0)
        {
            Volatile.Write(ref _broken, true);
        }
    }

    // glibc's and musl's syscall(2) take the number and up to six integer arguments in registers (and the stack), as a
    // call with that fixed signature passes them on x64 and Arm64 Linux.
    [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern long FutexWait(long number, IntPtr address, int operation, int expected, ref Timespec until, IntPtr unused, int bitset);

    [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern long FutexWakeCall(long number, IntPtr address, int operation, int count);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
