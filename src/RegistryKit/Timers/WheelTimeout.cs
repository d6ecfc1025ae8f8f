using System.Diagnostics.CodeAnalysis;

namespace RegistryKit.Timers;

/// <summary>
/// A handle to one timeout scheduled on a <see cref="HashedWheelTimer"/>: cancel it or ask where it stands.
/// </summary>
/// <remarks>
/// <para>
/// The handle is a small value; copying it is free and it allocates nothing. The timer reuses its internal nodes,
/// and a handle names one use of a node, so a handle kept after its timeout finished can never cancel or report on
/// a later timeout that happens to reuse the node.
/// </para>
/// <para>
/// <see cref="Status"/> is exact while the timeout is pending, while its task runs, and afterwards while its node has
/// been reused for at most 30 further timeouts (a node remembers 32 outcomes; the margin keeps reads exact while
/// another thread is recycling it). Past that, a cancelled timeout reports <see cref="TimeoutStatus.Expired"/>:
/// still finished and no longer cancellable, but its outcome forgotten.
/// </para>
/// </remarks>
public readonly struct WheelTimeout : IEquatable<WheelTimeout>
{
    private const long StateMask = 3;
    private const int RememberedOutcomes = 31;

    private readonly TimeoutNode? _node;
    private readonly long _stamp;

    internal WheelTimeout(HashedWheelTimer timer, TimeoutNode node, long stamp)
    {
        Timer = timer;
        _node = node;
        _stamp = stamp;
    }

    /// <summary>Gets the timer the timeout was scheduled on; <see langword="null"/> for the default value.</summary>
    public HashedWheelTimer? Timer { get; }

    /// <summary>Gets where the timeout stands.</summary>
    public TimeoutStatus Status
    {
        get
        {
            TimeoutNode? node = _node;
            if (node is null)
            {
                return TimeoutStatus.None;
            }

            long current = Volatile.Read(ref node.Stamp);
            if ((current & ~StateMask) == _stamp)
            {
                return (TimeoutStatus)(current & StateMask);
            }

            // The node moved on to later generations. The outcome bit of ours is trustworthy only if the generation
            // that would overwrite it (ours + 32) had not started when the bit was read; the stamp read after the
            // bit bounds that.
            int history = Volatile.Read(ref node.History);
            long later = Volatile.Read(ref node.Stamp);
            long distance = ((later & ~StateMask) - _stamp) >> 2;
            if (distance <= RememberedOutcomes)
            {
                int slot = (int)((_stamp >> 2) & 31);
                return ((history >> slot) & 1) != 0 ? TimeoutStatus.Cancelled : TimeoutStatus.Expired;
            }

            return TimeoutStatus.Expired;
        }
    }

    /// <summary>Gets whether the timeout is still waiting to expire.</summary>
    public bool IsPending => Status == TimeoutStatus.Pending;

    /// <summary>Gets whether the timeout was cancelled before it expired.</summary>
    public bool IsCancelled => Status == TimeoutStatus.Cancelled;

    /// <summary>Gets whether the timeout expired: its task has been started, or queued to the timer's task scheduler.</summary>
    public bool IsExpired => Status == TimeoutStatus.Expired;

    /// <summary>Cancels the timeout so that its task never runs.</summary>
    /// <returns>
    /// <see langword="true"/> only for the first cancel of a timeout that is still pending; <see langword="false"/>
    /// when it already expired, was cancelled, or the timer stopped.
    /// </returns>
    public bool Cancel() => Timer is not null && Timer.Cancel(_node!, _stamp);

    /// <inheritdoc/>
    public bool Equals(WheelTimeout other) => ReferenceEquals(_node, other._node) && _stamp == other._stamp;

    /// <inheritdoc/>
    public override bool Equals([NotNullWhen(true)] object? obj) => obj is WheelTimeout other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(_node, _stamp);

    /// <summary>Compares two handles.</summary>
    /// <param name="left">The first handle.</param>
    /// <param name="right">The second handle.</param>
    /// <returns><see langword="true"/> when both name the same timeout.</returns>
    public static bool operator ==(WheelTimeout left, WheelTimeout right) => left.Equals(right);

    /// <summary>Compares two handles.</summary>
    /// <param name="left">The first handle.</param>
    /// <param name="right">The second handle.</param>
    /// <returns><see langword="true"/> when they name different timeouts.</returns>
    public static bool operator !=(WheelTimeout left, WheelTimeout right) => !left.Equals(right);

    /// <inheritdoc/>
    public override string ToString() => $"WheelTimeout({Status})";
}
