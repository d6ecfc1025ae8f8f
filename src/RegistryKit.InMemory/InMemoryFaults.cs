using RegistryKit.Transport;

namespace RegistryKit.InMemory;

/// <summary>
/// Faults an <see cref="InMemoryRegistryServer"/> injects into its clients' calls, for tests and demos of failback,
/// recovery and the disk cache.
/// </summary>
/// <remarks>Failures are transient <see cref="RegistryTransportException"/>s, as a network or a restarting registry gives.</remarks>
public sealed class InMemoryFaults
{
    private readonly InMemoryRegistryServer _server;
    private readonly Lock _lock = new();
    private int _failNext;
    private int _loseNextReplies;
    private long _unreachableUntil = long.MinValue;
    private TimeSpan _callDelay;
    private long _injected;

    internal InMemoryFaults(InMemoryRegistryServer server)
    {
        _server = server;
    }

    /// <summary>Gets how many faults were injected so far.</summary>
    public long InjectedCount => Interlocked.Read(ref _injected);

    /// <summary>Gets or sets a delay added to every call before it reaches the server (on the server's clock).</summary>
    /// <value>The default is zero. Not negative.</value>
    public TimeSpan CallDelay
    {
        get
        {
            lock (_lock)
            {
                return _callDelay;
            }
        }

        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            lock (_lock)
            {
                _callDelay = value;
            }
        }
    }

    /// <summary>Gets whether the server is unreachable now.</summary>
    public bool IsUnreachable
    {
        get
        {
            lock (_lock)
            {
                return _server.NowTimestamp < _unreachableUntil;
            }
        }
    }

    /// <summary>Makes the next <paramref name="count"/> calls fail before they reach the server.</summary>
    /// <param name="count">How many calls fail; positive.</param>
    public void FailNextCalls(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        lock (_lock)
        {
            _failNext += count;
        }
    }

    /// <summary>
    /// Makes the next <paramref name="count"/> writes take effect and then fail as if the reply was lost, so the client
    /// cannot tell whether they happened.
    /// </summary>
    /// <param name="count">How many replies are lost; positive.</param>
    public void LoseNextReplies(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        lock (_lock)
        {
            _loseNextReplies += count;
        }
    }

    /// <summary>
    /// Makes the server unreachable for <paramref name="duration"/>: every call fails and every open watch is lost.
    /// Sessions keep ageing meanwhile, so ones not kept alive expire.
    /// </summary>
    /// <param name="duration">How long, on the server's clock; positive.</param>
    public void MakeUnreachable(TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero);
        lock (_lock)
        {
            _unreachableUntil = _server.NowTimestamp + duration.Ticks;
            _injected++;
        }

        _server.DropAllWatches(new RegistryTransportException("The in-memory registry became unreachable (injected fault)."));
    }

    /// <summary>Removes every pending fault and the call delay.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _failNext = 0;
            _loseNextReplies = 0;
            _unreachableUntil = long.MinValue;
            _callDelay = TimeSpan.Zero;
        }
    }

    internal async ValueTask BeforeCallAsync(TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        TimeSpan delay;
        lock (_lock)
        {
            delay = _callDelay;
        }

        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, timeProvider, cancellationToken).ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            if (_server.NowTimestamp < _unreachableUntil)
            {
                _injected++;
                throw new RegistryTransportException("The in-memory registry is unreachable (injected fault).");
            }

            if (_failNext > 0)
            {
                _failNext--;
                _injected++;
                throw new RegistryTransportException("The call to the in-memory registry failed (injected fault).");
            }
        }
    }

    internal void AfterWrite()
    {
        lock (_lock)
        {
            if (_loseNextReplies > 0)
            {
                _loseNextReplies--;
                _injected++;
                throw new RegistryTransportException("The reply from the in-memory registry was lost after the write took effect (injected fault).");
            }
        }
    }
}
