using RegistryKit.Testing;
using RegistryKit.Tests.Support;

namespace RegistryKit.Samples.CustomTransport.Tests.Support;

/// <summary>Moves virtual time for code that makes real HTTP calls on loopback.</summary>
internal static class VirtualTime
{
    /// <summary>
    /// Moves <paramref name="time"/> in steps of <paramref name="step"/> until <paramref name="condition"/> holds, but only
    /// while no call counted by the handlers is in flight: a heartbeat must not time out on virtual time while its
    /// answer is on the wire. Bounded by the test's timeout.
    /// </summary>
    public static async Task AdvanceUntilAsync(this ManualTimeProvider time, Func<bool> condition, TimeSpan step, params InFlightHandler[] calls)
    {
        CancellationToken cancel = TestContext.CurrentContext.CancellationToken;
        while (!condition())
        {
            cancel.ThrowIfCancellationRequested();
            if (calls.All(c => c.InFlight == 0))
            {
                time.Advance(step);
            }

            for (int i = 0; i < 4; i++)
            {
                await VirtualTimeDriver.YieldBehindQueuedWork();
            }
        }
    }
}
