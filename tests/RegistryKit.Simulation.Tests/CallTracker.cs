namespace RegistryKit.Simulation.Tests;

/// <summary>
/// Counts the transport calls under way, and those of them parked on a simulated delay, so the driver can tell when
/// everything that can run has run.
/// </summary>
internal sealed class CallTracker
{
    private int _inFlight;
    private int _parked;

    /// <summary>Gets the calls under way that are not waiting for virtual time.</summary>
    public int Runnable => Volatile.Read(ref _inFlight) - Volatile.Read(ref _parked);

    /// <summary>Gets every call under way, parked or not.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    public void Enter() => Interlocked.Increment(ref _inFlight);

    public void Exit() => Interlocked.Decrement(ref _inFlight);

    public void Park() => Interlocked.Increment(ref _parked);

    public void Unpark() => Interlocked.Decrement(ref _parked);
}
