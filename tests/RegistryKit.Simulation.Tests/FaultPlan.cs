using System.Globalization;

namespace RegistryKit.Simulation.Tests;

/// <summary>The kinds of fault a call or a notification can meet.</summary>
internal enum Fault
{
    /// <summary>The request never reaches the registry.</summary>
    DropRequest = 1,

    /// <summary>The registry applies the request, and the reply is lost.</summary>
    LoseReply,

    /// <summary>The request waits a while before it reaches the registry.</summary>
    Delay,

    /// <summary>A keep-alive is answered "session unknown" although the registry still holds the session.</summary>
    SessionUnknown,

    /// <summary>A notification is delivered twice.</summary>
    DuplicateSnapshot,

    /// <summary>A notification is held back and delivered after the next one.</summary>
    ReorderSnapshot,
}

/// <summary>
/// One seed's fault probabilities, and the decision for each call. A decision is a pure function of the seed, the fault,
/// the client, what the call is about and how many such calls that client made before, never of a shared random
/// sequence, so threads finishing in another order cannot change which call meets which fault.
/// </summary>
internal sealed class FaultPlan
{
    private readonly ulong _seed;
    private readonly double[] _probability = new double[7];

    public FaultPlan(int seed)
    {
        _seed = (ulong)seed;
        var random = new Random(seed);
        // Each seed has its own mix: some runs are quiet, some are stormy in one way.
        _probability[(int)Fault.DropRequest] = random.NextDouble() * 0.15;
        _probability[(int)Fault.LoseReply] = random.NextDouble() * 0.10;
        _probability[(int)Fault.Delay] = random.NextDouble() * 0.10;
        _probability[(int)Fault.SessionUnknown] = random.NextDouble() * 0.05;
        _probability[(int)Fault.DuplicateSnapshot] = random.NextDouble() * 0.20;
        _probability[(int)Fault.ReorderSnapshot] = random.NextDouble() * 0.20;
    }

    /// <summary>The longest delay a <see cref="Fault.Delay"/> holds a request.</summary>
    public static TimeSpan MaxDelay { get; } = TimeSpan.FromSeconds(3);

    /// <summary>Gets or sets whether faults happen at all (off in the liveness phase).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets the number of faults injected so far.</summary>
    public long Injected => Interlocked.Read(ref _injected);

    private long _injected;

    /// <summary>Whether call number <paramref name="ordinal"/> of its kind meets <paramref name="fault"/>.</summary>
    public bool Decide(Fault fault, int client, string subject, long ordinal)
    {
        if (!Enabled || Unit(fault, client, subject, ordinal) >= _probability[(int)fault])
        {
            return false;
        }

        Interlocked.Increment(ref _injected);
        return true;
    }

    /// <summary>
    /// How long a delayed request waits: up to <see cref="MaxDelay"/>, with a fraction of a millisecond on top. Wheel ticks,
    /// heartbeats and workload steps fall on whole milliseconds; a delayed call ending on one of them would race the
    /// timer due at the same instant (its continuation runs on the pool, the timer on the clock's thread), and the
    /// order would change from run to run.
    /// </summary>
    public TimeSpan DelayOf(int client, string subject, long ordinal)
    {
        double unit = Unit((Fault)100, client, subject, ordinal);
        long ticks = (long)(unit * (MaxDelay.Ticks - TimeSpan.TicksPerMillisecond));
        long fraction = 1 + (ticks % (TimeSpan.TicksPerMillisecond - 1)); // never a whole millisecond
        return TimeSpan.FromTicks((ticks / TimeSpan.TicksPerMillisecond * TimeSpan.TicksPerMillisecond) + fraction);
    }

    public override string ToString() => string.Join(
        ' ',
        Enum.GetValues<Fault>().Select(f => string.Create(CultureInfo.InvariantCulture, $"{f}={_probability[(int)f]:0.000}")));

    private double Unit(Fault fault, int client, string subject, long ordinal)
    {
        ulong h = Mix(_seed ^ ((ulong)fault * 0x9E3779B97F4A7C15UL));
        h = Mix(h ^ (ulong)client);
        foreach (char c in subject)
        {
            h = (h ^ c) * 0x100000001B3UL; // FNV-1a over the subject, folded into the mix
        }

        h = Mix(h ^ (ulong)ordinal);
        return (h >> 11) * (1.0 / (1UL << 53));
    }

    /// <summary>SplitMix64's finaliser: every input bit moves every output bit.</summary>
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
