using System.Security.Cryptography.X509Certificates;
using System.Diagnostics;
using System.Net;
using System.Text;
using RegistryKit.Testing.Conformance;
using RegistryKit.Transport;

namespace RegistryKit.Etcd.Tests;

/// <summary>
/// Hostile and awkward conditions found in review, each a regression test: expired tokens under a live watch, TLS
/// chains, concurrent re-authentication, a hostile stream, disposal racing a watch, credentials in bad addresses.
/// </summary>
[CancelAfter(120_000)]
[NonParallelizable]
public class EtcdHardeningTests
{
    private static readonly ServiceUrl s_sub = EtcdRegistryTransportTests.Subscription("com.example.Greeter");

    private static CancellationToken TestToken => TestContext.CurrentContext.CancellationToken;

    private static ServiceUrl Url(int port) => EtcdRegistryTransportTests.Provider("com.example.Greeter", port);

    private static async Task EnableAuthAsync(EtcdServer etcd)
    {
        await etcd.PostAsync("auth/role/add", """{"name":"root"}""");
        await etcd.PostAsync("auth/user/add", """{"name":"root","password":"pw-123"}""");
        await etcd.PostAsync("auth/user/grant", """{"user":"root","role":"root"}""");
        await etcd.PostAsync("auth/enable", "{}");
    }

    private static IRegistryTransport CreateAuth(EtcdServer etcd, string root, ProgressLoggerFactory logs, TimeSpan? callTimeout = null) =>
        new EtcdRegistryTransportFactory(new EtcdOptions { AllowPasswordOverHttp = true, Root = root, CallTimeout = callTimeout ?? TimeSpan.FromSeconds(5) }, loggerFactory: logs)
            .CreateTransport(ServiceUrl.Parse($"etcd://root:pw-123@127.0.0.1:{etcd.ClientPort}"));

    /// <summary>The watch authenticates again and sees the registration made meanwhile, within 20 s.</summary>
    private static async Task AssertTheWatchSeesTheRegistrationAsync(RecordingWatcher watcher, ProgressLoggerFactory logs, bool tokenExpired = false)
    {
        bool seen = await WaitUntilAsync(() => watcher.LostReason is not null || watcher.Last?.Entries.Count > 0, TimeSpan.FromSeconds(20));
        int drops = logs.Lines.Count(l => l.Contains(" 7010 ", StringComparison.Ordinal));
        int auths = logs.Lines.Count(l => l.Contains(" 7001 ", StringComparison.Ordinal));
        Assert.That(seen, Is.True, $"in 20 s the watch neither saw the registration nor was reported lost; it reconnected {drops} times and authenticated {auths} time(s)");
        Assert.That(watcher.LostReason, Is.Null, "the watch recovered");
        if (tokenExpired)
        {
            Assert.That(auths, Is.GreaterThanOrEqualTo(2), "it authenticated again");
        }
    }

    private static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > within)
            {
                return false;
            }

            await Task.Delay(100, TestToken);
        }

        return true;
    }

    [Test]
    public async Task Watch_AuthOn_EtcdRestartedSoEveryTokenIsInvalid_AuthenticatesAgainAndSeesLaterChanges()
    {
        await using EtcdServer etcd = await EtcdServer.StartOwnAsync("--auth-token=simple");
        await EnableAuthAsync(etcd);
        var logs = new ProgressLoggerFactory();
        string root = "/r1/" + Guid.NewGuid().ToString("N");
        await using IRegistryTransport consumer = CreateAuth(etcd, root, logs);
        var watcher = new RecordingWatcher();
        await using IAsyncDisposable watch = await consumer.WatchAsync(s_sub, watcher, TestToken);
        await watcher.WaitForAsync(s => s.Entries.Count == 0, TestToken);

        // Simple tokens live in each member's memory: after a restart every token is invalid.
        await etcd.StopAsync();
        await etcd.StartAgainAsync();

        await using IRegistryTransport provider = CreateAuth(etcd, root, new ProgressLoggerFactory());
        RegistrySession session = await provider.OpenSessionAsync(TimeSpan.FromSeconds(30), TestToken);
        await provider.RegisterAsync(session, Url(1), TestToken);

        await AssertTheWatchSeesTheRegistrationAsync(watcher, logs);
    }

    [Test]
    public async Task Watch_AuthOn_StreamDropsAfterTheTokenExpired_AuthenticatesAgainAndSeesLaterChanges()
    {
        await using EtcdServer etcd = await EtcdServer.StartOwnAsync("--auth-token=simple", "--auth-token-ttl=1");
        await EnableAuthAsync(etcd);
        await using var proxy = new TcpProxy(etcd.ClientPort);
        var logs = new ProgressLoggerFactory();
        string root = "/r1b/" + Guid.NewGuid().ToString("N");
        await using IRegistryTransport consumer = new EtcdRegistryTransportFactory(new EtcdOptions { AllowPasswordOverHttp = true, Root = root }, loggerFactory: logs)
            .CreateTransport(ServiceUrl.Parse($"etcd://root:pw-123@127.0.0.1:{proxy.Port}"));
        var watcher = new RecordingWatcher();
        await using IAsyncDisposable watch = await consumer.WatchAsync(s_sub, watcher, TestToken);
        await watcher.WaitForAsync(s => s.Entries.Count == 0, TestToken);

        // The token expires while the stream is healthy (no unary call refreshes it); then the connection drops.
        await Task.Delay(TimeSpan.FromSeconds(3), TestToken);
        proxy.Sever();

        await using IRegistryTransport provider = CreateAuth(etcd, root, new ProgressLoggerFactory());
        RegistrySession session = await provider.OpenSessionAsync(TimeSpan.FromSeconds(30), TestToken);
        await provider.RegisterAsync(session, Url(1), TestToken);

        await AssertTheWatchSeesTheRegistrationAsync(watcher, logs, tokenExpired: true);
    }

    [Test]
    public async Task Tls_ConnectionClosedDuringTheHandshake_IsTransient()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _ = Task.Run(async () =>
        {
            while (true)
            {
                using System.Net.Sockets.TcpClient c = await listener.AcceptTcpClientAsync();
                byte[] buffer = new byte[512];
                _ = await c.GetStream().ReadAsync(buffer); // read the ClientHello, then close: a member going down
            }
        });
        await using IRegistryTransport transport = new EtcdRegistryTransportFactory(new EtcdOptions { UseTls = true, CallTimeout = TimeSpan.FromSeconds(2) })
            .CreateTransport(ServiceUrl.Parse($"etcd://127.0.0.1:{port}"));
        RegistryTransportException? e = Assert.ThrowsAsync<RegistryTransportException>(async () => await transport.LookupAsync(s_sub, TestToken));
        TestContext.Out.WriteLine(e!.Message + " | inner: " + e.InnerException?.InnerException?.GetType().Name);
        Assert.That(e.IsTransient, Is.True);
    }

    [Test]
    public async Task Tls_ServerCertificateFromAnIntermediateCa_IsTrustedByTheRootInTheCaFile()
    {
        using var rootKey = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        using var midKey = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        using var leafKey = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        DateTimeOffset now = DateTimeOffset.UtcNow;
        var rootReq = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=Review Root", rootKey, System.Security.Cryptography.HashAlgorithmName.SHA256);
        rootReq.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension(true, false, 0, true));
        rootReq.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509KeyUsageExtension(System.Security.Cryptography.X509Certificates.X509KeyUsageFlags.KeyCertSign, true));
        using var root = rootReq.CreateSelfSigned(now.AddDays(-1), now.AddDays(2));
        var midReq = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=Review Intermediate", midKey, System.Security.Cryptography.HashAlgorithmName.SHA256);
        midReq.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension(true, false, 0, true));
        midReq.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509KeyUsageExtension(System.Security.Cryptography.X509Certificates.X509KeyUsageFlags.KeyCertSign, true));
        using var mid = midReq.Create(root, now.AddDays(-1), now.AddDays(1), [1, 2, 3, 4]);
        using var midWithKey = mid.CopyWithPrivateKey(midKey);
        var leafReq = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=server", leafKey, System.Security.Cryptography.HashAlgorithmName.SHA256);
        var names = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        leafReq.CertificateExtensions.Add(names.Build());
        leafReq.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension([new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.1")], false));
        using var leaf = leafReq.Create(midWithKey, now.AddDays(-1), now.AddHours(20), [5, 6, 7, 8]);
        using var leafWithKey = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12(leaf.CopyWithPrivateKey(leafKey).Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx), null);
        string caFile = Path.Combine(Path.GetTempPath(), "review-root-" + Guid.NewGuid().ToString("N") + ".pem");
        File.WriteAllText(caFile, root.ExportCertificatePem());
        var context = System.Net.Security.SslStreamCertificateContext.Create(leafWithKey, [mid], offline: true);

        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _ = Task.Run(async () =>
        {
            while (true)
            {
                System.Net.Sockets.TcpClient c = await listener.AcceptTcpClientAsync();
                _ = Task.Run(async () =>
                {
                    using (c)
                    await using (var ssl = new System.Net.Security.SslStream(c.GetStream()))
                    {
                        try
                        {
                            await ssl.AuthenticateAsServerAsync(new System.Net.Security.SslServerAuthenticationOptions { ServerCertificateContext = context });
                            byte[] buffer = new byte[4096];
                            _ = await ssl.ReadAsync(buffer);
                            const string body = "{\"header\":{\"revision\":\"1\"}}";
                            await ssl.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n{body}"));
                            await ssl.FlushAsync();
                        }
                        catch (Exception)
                        {
                        }
                    }
                });
            }
        });
        await using IRegistryTransport transport = new EtcdRegistryTransportFactory(new EtcdOptions { UseTls = true, CaCertificatePath = caFile, CallTimeout = TimeSpan.FromSeconds(3) })
            .CreateTransport(ServiceUrl.Parse($"etcd://127.0.0.1:{port}"));
        try
        {
            TransportSnapshot snapshot = await transport.LookupAsync(s_sub, TestToken);
            Assert.That(snapshot.Revision, Is.EqualTo(1));
        }
        finally
        {
            File.Delete(caFile);
        }
    }

    [Test]
    public async Task Auth_ConcurrentCallsAfterTheTokenExpired_AuthenticateOnce()
    {
        await using EtcdServer etcd = await EtcdServer.StartOwnAsync("--auth-token=simple", "--auth-token-ttl=1");
        await EnableAuthAsync(etcd);
        var logs = new ProgressLoggerFactory();
        await using IRegistryTransport transport = CreateAuth(etcd, "/r3", logs);
        await transport.LookupAsync(s_sub, TestToken);
        await Task.Delay(TimeSpan.FromSeconds(3), TestToken);

        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => transport.LookupAsync(s_sub, TestToken).AsTask()));

        Assert.That(logs.Lines.Count(l => l.Contains(" 7001 ", StringComparison.Ordinal)), Is.EqualTo(2));
    }

    [Test]
    public async Task Watch_OutlivesCallTimeout()
    {
        EtcdServer etcd = await EtcdServer.RequireSharedAsync();
        string root = "/r4/" + Guid.NewGuid().ToString("N");
        var factory = new EtcdRegistryTransportFactory(new EtcdOptions { Root = root, CallTimeout = TimeSpan.FromSeconds(1) });
        await using IRegistryTransport transport = factory.CreateTransport(ServiceUrl.Parse(etcd.Address));
        var logs = new ProgressLoggerFactory();
        var watcher = new RecordingWatcher();
        await using IAsyncDisposable watch = await transport.WatchAsync(s_sub, watcher, TestToken);
        await Task.Delay(TimeSpan.FromSeconds(3), TestToken);
        RegistrySession session = await transport.OpenSessionAsync(TimeSpan.FromSeconds(10), TestToken);
        await transport.RegisterAsync(session, Url(1), TestToken);
        await watcher.WaitForAsync(s => s.Entries.Count == 1, TestToken).WaitAsync(TimeSpan.FromSeconds(5), TestToken);
        Assert.That(watcher.Snapshots, Has.Count.EqualTo(2), "one listing, one event: the stream was not cut and re-listed");
    }

    [Test]
    public void BackupAddressWithUserInfo_IsRefusedWithThePasswordHidden()
    {
        var factory = new EtcdRegistryTransportFactory(new EtcdOptions { AllowPasswordOverHttp = true });
        ArgumentException? e = Assert.Throws<ArgumentException>(() =>
            factory.CreateTransport(ServiceUrl.Parse("etcd://127.0.0.1:2379?backup=alice:s3cr3t-pw@127.0.0.1:2380")));
        TestContext.Out.WriteLine(e!.Message);
        Assert.That(e.Message, Does.Not.Contain("s3cr3t-pw"));
    }

    [Test]
    public async Task Watch_HostileUnterminatedLine_IsRefusedAtTheLimit()
    {
        var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var fake = new FakeGateway(async (path, context) =>
        {
            if (path == "kv/range")
            {
                await FakeGateway.WriteAsync(context, """{"header":{"revision":"1"}}""");
                return;
            }

            // 200, then 96 MB without a newline, then the stream stays open.
            context.Response.SendChunked = true;
            byte[] chunk = Encoding.ASCII.GetBytes(new string('a', 1 << 20));
            for (int i = 0; i < 96; i++)
            {
                await context.Response.OutputStream.WriteAsync(chunk);
            }

            await context.Response.OutputStream.FlushAsync();
            sent.TrySetResult();
            await Task.Delay(Timeout.Infinite, TestToken);
        });
        await using IRegistryTransport transport = new EtcdRegistryTransportFactory().CreateTransport(ServiceUrl.Parse($"etcd://127.0.0.1:{fake.Port}"));
        GC.Collect();
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var watcher = new RecordingWatcher();
        await using IAsyncDisposable watch = await transport.WatchAsync(s_sub, watcher, TestToken);

        // The reader gives up at the line limit (16 Mi characters) and the watch is reported lost; it never takes it all.
        Assert.That(await WaitUntilAsync(() => watcher.LostReason is not null, TimeSpan.FromSeconds(30)), Is.True, "the watch was reported lost");
        long during = GC.GetTotalMemory(forceFullCollection: true);
        TestContext.Out.WriteLine($"live heap grew by {(during - before) / (1 << 20)} MB after one unterminated line");
        Assert.That(watcher.LostReason!.Message, Does.Contain("longer than"));
        Assert.That(sent.Task.IsCompleted, Is.False, "the client stopped reading before the 96 MB were sent");
        Assert.That(during - before, Is.LessThan(16L << 20));
    }

    [Test]
    public async Task Watch_StartedWhileTheTransportIsDisposed_DoesNotOutliveIt()
    {
        var rangeGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int revision = 5;
        int watchRequests = 0;
        await using var fake = new FakeGateway(async (path, context) =>
        {
            switch (path)
            {
                case "lease/grant":
                    await FakeGateway.WriteAsync(context, """{"header":{"revision":"5"},"ID":"77","TTL":"30"}""");
                    return;
                case "lease/revoke":
                    await Task.Delay(1500);
                    await FakeGateway.WriteAsync(context, """{"header":{"revision":"5"}}""");
                    return;
                case "kv/range":
                    await rangeGate.Task;
                    await FakeGateway.WriteAsync(context, """{"header":{"revision":"5"}}""");
                    return;
                case "watch":
                    Interlocked.Increment(ref watchRequests);
                    context.Response.SendChunked = true;
                    Stream output = context.Response.OutputStream;
                    await output.WriteAsync(Encoding.ASCII.GetBytes("""{"result":{"header":{"revision":"5"},"created":true}}""" + "\n"));
                    await output.FlushAsync();
                    while (true)
                    {
                        await Task.Delay(300);
                        int r = Interlocked.Increment(ref revision);
                        string key = Convert.ToBase64String(Encoding.UTF8.GetBytes("/registrykit/com.example.Greeter/x/" + r));
                        string value = Convert.ToBase64String(Encoding.UTF8.GetBytes(Url(r).ToFullString()));
                        string line = "{\"result\":{\"header\":{\"revision\":\"" + r + "\"},\"events\":[{\"kv\":{\"key\":\"" + key + "\",\"value\":\"" + value + "\",\"mod_revision\":\"" + r + "\"}}]}}\n";
                        await output.WriteAsync(Encoding.ASCII.GetBytes(line));
                        await output.FlushAsync();
                    }
            }
        });
        IRegistryTransport transport = new EtcdRegistryTransportFactory().CreateTransport(ServiceUrl.Parse($"etcd://127.0.0.1:{fake.Port}"));
        await transport.OpenSessionAsync(TimeSpan.FromSeconds(30), TestToken);
        var watcher = new RecordingWatcher();
        Task<IAsyncDisposable> watching = transport.WatchAsync(s_sub, watcher, TestToken).AsTask();
        await Task.Delay(200, TestToken);
        Task disposing = transport.DisposeAsync().AsTask();
        await Task.Delay(200, TestToken);
        rangeGate.SetResult();
        Exception? watchFailure = null;
        try
        {
            await watching;
        }
        catch (Exception e)
        {
            watchFailure = e;
        }

        await disposing;
        int afterDispose = watcher.Snapshots.Count;
        await Task.Delay(2000, TestToken);
        TestContext.Out.WriteLine($"WatchAsync: {watchFailure?.GetType().Name ?? "succeeded"}; snapshots at dispose {afterDispose}, 2 s later {watcher.Snapshots.Count}; watch requests {watchRequests}; lost {watcher.LostReason?.GetType().Name}");
        Assert.That(watchFailure is ObjectDisposedException || (watcher.Snapshots.Count == afterDispose && watcher.LostReason is null && watchRequests == 0), Is.True,
            "a watch set up while the transport was disposing must fail or stop with the transport");
    }

    [Test]
    public async Task Dispose_WhileAWatchReconnects_IsQuickAndSilent()
    {
        await using EtcdServer etcd = await EtcdServer.StartOwnAsync();
        IRegistryTransport transport = new EtcdRegistryTransportFactory().CreateTransport(ServiceUrl.Parse(etcd.Address));
        var watcher = new RecordingWatcher();
        await transport.WatchAsync(s_sub, watcher, TestToken);
        await transport.OpenSessionAsync(TimeSpan.FromSeconds(30), TestToken);
        await etcd.StopAsync();
        await Task.Delay(1500, TestToken);
        int count = watcher.Snapshots.Count;
        var clock = Stopwatch.StartNew();
        await transport.DisposeAsync();
        TestContext.Out.WriteLine($"dispose took {clock.Elapsed}");
        await Task.Delay(1000, TestToken);
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(7)));
        Assert.That(watcher.Snapshots, Has.Count.EqualTo(count));
        Assert.That(watcher.LostReason, Is.Null);
    }

    private sealed class TcpProxy : IAsyncDisposable
    {
        private readonly System.Net.Sockets.TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly int _target;
        private readonly System.Collections.Concurrent.ConcurrentBag<System.Net.Sockets.TcpClient> _open = [];
        private readonly Task _loop;

        public TcpProxy(int target)
        {
            _target = target;
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _loop = Task.Run(AcceptAsync);
        }

        public int Port { get; }

        public void Sever()
        {
            while (_open.TryTake(out System.Net.Sockets.TcpClient? c))
            {
                try
                {
                    // A reset, not a graceful close: the client sees the connection drop.
                    c.Client.LingerState = new System.Net.Sockets.LingerOption(true, 0);
                }
                catch (ObjectDisposedException)
                {
                    // The pipe already closed this one (its other side ended first).
                }

                c.Dispose();
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            Sever();
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        private async Task AcceptAsync()
        {
            while (true)
            {
                System.Net.Sockets.TcpClient inbound = await _listener.AcceptTcpClientAsync();
                var outbound = new System.Net.Sockets.TcpClient();
                await outbound.ConnectAsync(IPAddress.Loopback, _target);
                _open.Add(inbound);
                _open.Add(outbound);
                _ = Pipe(inbound.GetStream(), outbound.GetStream());
                _ = Pipe(outbound.GetStream(), inbound.GetStream());
            }
        }

        private static async Task Pipe(Stream from, Stream to)
        {
            try
            {
                await from.CopyToAsync(to);
            }
            catch (Exception)
            {
            }

            try
            {
                to.Dispose();
            }
            catch (Exception)
            {
            }
        }
    }

    private sealed class FakeGateway : IAsyncDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Func<string, HttpListenerContext, Task> _handler;
        private readonly Task _loop;

        public FakeGateway(Func<string, HttpListenerContext, Task> handler)
        {
            _handler = handler;
            Port = FreePort();
            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            _listener.Start();
            _loop = Task.Run(AcceptAsync);
        }

        public int Port { get; }

        public static async Task WriteAsync(HttpListenerContext context, string json)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(json);
            context.Response.ContentType = "application/json";
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        private async Task AcceptAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception)
                {
                    return;
                }

                string path = context.Request.Url!.AbsolutePath["/v3/".Length..];
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await _handler(path, context);
                    }
                    catch (Exception)
                    {
                        // The client went away.
                    }
                });
            }
        }

        private static int FreePort()
        {
            using var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            l.Start();
            return ((IPEndPoint)l.LocalEndpoint).Port;
        }
    }
}
