namespace RegistryKit.Timers;

/// <summary>
/// One scheduled timeout inside a <see cref="HashedWheelTimer"/>. Nodes are pooled and reused; a
/// <see cref="WheelTimeout"/> names one use of a node by its generation stamp.
/// </summary>
/// <remarks>
/// 56 bytes on 64-bit (a 16-byte object header, three references, a long and two ints): the whole retained cost
/// of a pending timeout. There is no room for a timer reference; the handle carries it instead. All fields are guarded by the timer's lock, except while a pass owns the node (detached, its task running or done); <see cref="Stamp"/>
/// and <see cref="History"/> are also read without it by handles, hence the volatile accesses where they change.
/// </remarks>
internal sealed class TimeoutNode
{
    /// <summary>The <see cref="ITimerTask"/> or <see cref="Action{T}"/> of <see cref="WheelTimeout"/> to run; null when free.</summary>
    public object? Task;

    /// <summary>Next node in the bucket, the expired chain or the free list.</summary>
    public TimeoutNode? Next;

    /// <summary>Previous node in the bucket; null outside a bucket.</summary>
    public TimeoutNode? Prev;

    /// <summary>Generation (bits 2 and up) and state (bits 0–1: pending, cancelled, expired).</summary>
    public long Stamp;

    /// <summary>
    /// In a bucket, the revolutions of the wheel still to wait before the bucket expires the node; among the new
    /// timeouts not yet placed, the due tick relative to the timer's base for them.
    /// </summary>
    public int Rounds;

    /// <summary>Outcomes of the last 32 generations, one bit each (set = cancelled), indexed by generation mod 32.</summary>
    public int History;
}
