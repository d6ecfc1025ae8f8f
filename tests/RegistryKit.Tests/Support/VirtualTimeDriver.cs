using System.Runtime.CompilerServices;
using RegistryKit.Testing;

namespace RegistryKit.Tests.Support;

/// <summary>
/// Moves a <see cref="ManualTimeProvider"/> for code whose continuations run on the thread pool, without letting
/// virtual time run ahead of them.
/// </summary>
/// <remarks>
/// A loop of <c>Advance</c> and <c>Task.Yield()</c> is not enough: a yield puts the loop back on the front of its own
/// thread's queue, so on a small machine the work it waits for can lag thousands of steps behind, and a timeout armed
/// late fires minutes of virtual time late. Here each wait goes to the back of the pool's global queue, behind the work
/// already queued, and <see cref="DriveAsync"/> moves time only to a timer that is armed. That still cannot tell a
/// call that is about to start: Polly arms a call's timeout before it makes the call, and continuations of
/// <c>TimeProvider.Delay</c> always run on the pool. So <see cref="DriveAsync"/> is for tests that assert outcomes and
/// counts; a test that asserts exact times advances step by step on its fake's signals and
/// <see cref="AdvanceWhenNextTimerIsAsync"/>.
/// </remarks>
internal static class VirtualTimeDriver
{
    /// <summary>
    /// Drives time until <paramref name="task"/> is done: whenever a timer is armed within <paramref name="maxStep"/>,
    /// moves time exactly to it. Timers further away (a schedule armed at the end of the work) are left alone.
    /// </summary>
    public static async Task DriveAsync(this ManualTimeProvider time, Task task, TimeSpan maxStep)
    {
        CancellationToken cancel = TestContext.CurrentContext.CancellationToken;
        while (!task.IsCompleted)
        {
            cancel.ThrowIfCancellationRequested();
            if (time.GetTimeToNextTimer() is { } due && due <= maxStep)
            {
                time.Advance(due);
            }

            await YieldBehindQueuedWork();
        }

        await task;
    }

    /// <summary>Moves time in whole steps, letting the work each step released run before the next.</summary>
    public static async Task AdvanceInStepsAsync(this ManualTimeProvider time, TimeSpan total, TimeSpan step)
    {
        for (TimeSpan moved = TimeSpan.Zero; moved < total; moved += step)
        {
            time.Advance(step);
            for (int i = 0; i < 4; i++)
            {
                await YieldBehindQueuedWork();
            }
        }
    }

    /// <summary>Waits, yielding behind queued work, until <paramref name="condition"/> holds (bounded by the test's timeout).</summary>
    public static async Task WaitUntilAsync(Func<bool> condition)
    {
        CancellationToken cancel = TestContext.CurrentContext.CancellationToken;
        while (!condition())
        {
            cancel.ThrowIfCancellationRequested();
            await YieldBehindQueuedWork();
        }
    }

    /// <summary>
    /// Waits until the next armed timer is due exactly <paramref name="due"/> from now, then moves time to it. For a
    /// pause that the code arms after the call before it (a retry delay), this never runs ahead of that call.
    /// </summary>
    public static async Task AdvanceWhenNextTimerIsAsync(this ManualTimeProvider time, TimeSpan due)
    {
        CancellationToken cancel = TestContext.CurrentContext.CancellationToken;
        while (time.GetTimeToNextTimer() != due)
        {
            cancel.ThrowIfCancellationRequested();
            await YieldBehindQueuedWork();
        }

        time.Advance(due);
    }

    /// <summary>Continues on the thread pool's global queue, behind the work already queued there and on this thread.</summary>
    public static GlobalQueueYield YieldBehindQueuedWork() => default;

    internal readonly struct GlobalQueueYield : ICriticalNotifyCompletion
    {
        public bool IsCompleted => false;

        public GlobalQueueYield GetAwaiter() => this;

        public void GetResult()
        {
        }

        public void OnCompleted(Action continuation) => ThreadPool.QueueUserWorkItem(static run => run(), continuation, preferLocal: false);

        public void UnsafeOnCompleted(Action continuation) => ThreadPool.UnsafeQueueUserWorkItem(static run => run(), continuation, preferLocal: false);
    }
}
