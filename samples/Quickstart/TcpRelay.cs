using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace RegistryKit.Samples.Quickstart;

/// <summary>
/// A loopback TCP relay in front of the registry, so the story can cut the clients off without touching the registry:
/// while stopped, every open connection is reset and every new one is closed as soon as it is accepted.
/// </summary>
internal sealed class TcpRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly DnsEndPoint _target;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<Socket, byte> _open = new();
    private readonly CancellationTokenSource _disposed = new();
    private readonly Task _accepting;
    private long _stoppedUntil;

    public TcpRelay(DnsEndPoint target, TimeProvider time)
    {
        _target = target;
        _time = time;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync(_disposed.Token);
    }

    /// <summary>Gets the loopback port clients connect to.</summary>
    public int Port { get; }

    /// <summary>Cuts every client off for <paramref name="duration"/>.</summary>
    public void Stop(TimeSpan duration)
    {
        Volatile.Write(ref _stoppedUntil, _time.GetTimestamp() + (long)(duration.TotalSeconds * _time.TimestampFrequency));
        foreach (Socket socket in _open.Keys)
        {
            Reset(socket);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _disposed.CancelAsync();
        _listener.Stop();
        foreach (Socket socket in _open.Keys)
        {
            Reset(socket);
        }

        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _disposed.Dispose();
    }

    private bool IsStopped => _time.GetTimestamp() < Volatile.Read(ref _stoppedUntil);

    private async Task AcceptAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket inbound = await _listener.AcceptSocketAsync(cancellationToken);
            if (IsStopped)
            {
                Reset(inbound);
                continue;
            }

            _ = RelayAsync(inbound, cancellationToken);
        }
    }

    private async Task RelayAsync(Socket inbound, CancellationToken cancellationToken)
    {
        var outbound = new Socket(SocketType.Stream, ProtocolType.Tcp);
        _open.TryAdd(inbound, 0);
        _open.TryAdd(outbound, 0);
        try
        {
            await outbound.ConnectAsync(_target, cancellationToken);
            using var toRegistry = new NetworkStream(outbound, ownsSocket: false);
            using var toClient = new NetworkStream(inbound, ownsSocket: false);
            // Whichever side ends first ends the pair.
            await Task.WhenAny(toClient.CopyToAsync(toRegistry, cancellationToken), toRegistry.CopyToAsync(toClient, cancellationToken));
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The registry refused, or the relay cut the pair: the client sees its connection drop, which is the point.
        }
        finally
        {
            _open.TryRemove(inbound, out _);
            _open.TryRemove(outbound, out _);
            Reset(inbound);
            Reset(outbound);
        }
    }

    /// <summary>Closes with a reset rather than a graceful close, as a lost network path looks to the client.</summary>
    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }

        socket.Dispose();
    }
}
