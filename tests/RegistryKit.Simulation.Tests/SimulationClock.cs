using RegistryKit.Testing;
using RegistryKit.Tests.Support;

namespace RegistryKit.Simulation.Tests;

/// <summary>
/// Moves the simulation's virtual clock one armed timer at a time, and after each lets everything that became
/// runnable run to a stop before time moves again. So every piece of work reads the clock at a moment the seed decided,
/// not at a moment a thread happened to reach.
/// </summary>
internal sealed class SimulationClock(ManualTimeProvider time, CallTracker calls)
{
    public ManualTimeProvider Time { get; } = time;

    public TimeSpan Elapsed => Time.GetUtcNow() - ManualTimeProvider.DefaultStart;

    /// <summary>Advances by <paramref name="span"/>, stopping at each timer on the way.</summary>
    public async Task AdvanceAsync(TimeSpan span)
    {
        DateTimeOffset target = Time.GetUtcNow() + span;
        while (true)
        {
            TimeSpan? next = Time.GetTimeToNextTimer();
            TimeSpan left = target - Time.GetUtcNow();
            if (next is null || next > left)
            {
                Time.Advance(left);
                await SettleAsync();
                return;
            }

            Time.Advance(next.Value);
            await SettleAsync();
        }
    }

    /// <summary>
    /// Waits until nothing can make progress: no transport call is runnable, the thread pool's queues are empty, no
    /// more pool threads are running work than when the pool was idle, and the pool completed no work item but this
    /// loop's own since the last look, three looks in a row. The thread count is what catches work already taken from
    /// the queue by a thread the operating system has paused (on a busy machine, for milliseconds): the queue and the
    /// completion count both look idle then.
    /// </summary>
    public async Task SettleAsync()
    {
        long completed = ThreadPool.CompletedWorkItemCount;
        for (int calm = 0; calm < 3;)
        {
            await VirtualTimeDriver.YieldBehindQueuedWork();
            long now = ThreadPool.CompletedWorkItemCount;
            bool onlyOurs = now - completed <= 1;
            completed = now;
            calm = calls.Runnable == 0 && ThreadPool.PendingWorkItemCount == 0 && onlyOurs && BusyPoolThreads() <= IdleBusyThreads ? calm + 1 : 0;
        }
    }

    /// <summary>
    /// Gets the pool threads that count as busy when nothing runs but this loop: this one, and any the host keeps
    /// blocked (the test host's own). Measured once per process, as the least seen over a few idle looks.
    /// </summary>
    private static int IdleBusyThreads => s_idleBusyThreads.Value;

    private static readonly Lazy<int> s_idleBusyThreads = new(() =>
    {
        int least = int.MaxValue;
        for (int i = 0; i < 200; i++)
        {
            least = Math.Min(least, BusyPoolThreads());
            Thread.Yield();
        }

        return least;
    });

    private static int BusyPoolThreads()
    {
        ThreadPool.GetMaxThreads(out int max, out _);
        ThreadPool.GetAvailableThreads(out int available, out _);
        return max - available;
    }

    /// <summary>Drives time until <paramref name="task"/> completes, at most <paramref name="limit"/> of virtual time.</summary>
    public async Task<bool> RunUntilAsync(Task task, TimeSpan limit)
    {
        await SettleAsync();
        DateTimeOffset deadline = Time.GetUtcNow() + limit;
        while (!task.IsCompleted && Time.GetUtcNow() < deadline)
        {
            await AdvanceAsync(TimeSpan.FromMilliseconds(100));
        }

        return task.IsCompleted;
    }
}
