using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RegistryKit.Etcd.Tests;

/// <summary>
/// A throwaway etcd on free loopback ports with a temporary data directory, started as ETCD-GATEWAY.md says. Tests
/// share one (<see cref="RequireSharedAsync"/>, each under its own key root) or start their own to restart it.
/// </summary>
internal sealed class EtcdServer : IAsyncDisposable
{
    public const string InstallHint = "install etcd-server (apt-get install -y etcd-server)";

    private static readonly SemaphoreSlim s_gate = new(1, 1);
    private static EtcdServer? s_shared;
    private readonly string _executable;
    private readonly string[] _extraArguments;
    private readonly TestCertificates? _tls;
    private Process? _process;

    private EtcdServer(string executable, int clientPort, int peerPort, string dataDirectory, string[] extraArguments, TestCertificates? tls)
    {
        _executable = executable;
        _extraArguments = extraArguments;
        _tls = tls;
        ClientPort = clientPort;
        PeerPort = peerPort;
        DataDirectory = dataDirectory;
    }

    public int ClientPort { get; }

    public int PeerPort { get; }

    public string DataDirectory { get; }

    public string Address => $"etcd://127.0.0.1:{ClientPort}";

    public Uri BaseUri => new($"{(_tls is null ? "http" : "https")}://127.0.0.1:{ClientPort}/");

    /// <summary>The shared server, started on first use. Without etcd the test is ignored, or fails when CI=true.</summary>
    public static async Task<EtcdServer> RequireSharedAsync()
    {
        string executable = FindExecutableOrSkip();
        await s_gate.WaitAsync();
        try
        {
            return s_shared ??= await StartAsync(executable, null);
        }
        finally
        {
            s_gate.Release();
        }
    }

    /// <summary>A server of the caller's own, for tests that stop or restart it.</summary>
    /// <param name="extraArguments">Further etcd flags, such as <c>--auth-token-ttl=1</c>.</param>
    public static Task<EtcdServer> StartOwnAsync(params string[] extraArguments) => StartAsync(FindExecutableOrSkip(), null, extraArguments);

    /// <summary>A server of the caller's own that serves clients over HTTPS only and wants a client certificate.</summary>
    public static Task<EtcdServer> StartOwnWithTlsAsync(TestCertificates certificates) =>
        StartAsync(
            FindExecutableOrSkip(),
            certificates,
            "--cert-file", certificates.ServerCertificatePath,
            "--key-file", certificates.ServerKeyPath,
            "--client-cert-auth",
            "--trusted-ca-file", certificates.CaCertificatePath);

    public static async Task StopSharedAsync()
    {
        if (s_shared is not null)
        {
            await s_shared.DisposeAsync();
            s_shared = null;
        }
    }

    /// <summary>Starts etcd again on the same ports and data directory.</summary>
    public async Task StartAgainAsync()
    {
        Process process = Process.Start(StartInfo()) ?? throw new InvalidOperationException("etcd did not start.");
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        await WaitHealthyAsync();
    }

    /// <summary>Stops etcd with SIGTERM (then a kill after 10 s), keeping its data directory.</summary>
    public async Task StopAsync()
    {
        if (_process is not { } process)
        {
            return;
        }

        _process = null;
        if (!process.HasExited)
        {
            using (Process? kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill!.WaitForExitAsync();
            }

            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }

        process.Dispose();
    }

    /// <summary>Stops etcd, empties its data directory and starts it again: a cluster that lost its data.</summary>
    public async Task RestartEmptyAsync()
    {
        await StopAsync();
        Directory.Delete(DataDirectory, recursive: true);
        await StartAgainAsync();
    }

    /// <summary>Posts raw JSON to the gateway, for what the transport does not do itself (compaction).</summary>
    public async Task<string> PostAsync(string method, string json)
    {
        using var http = new HttpClient { BaseAddress = BaseUri, DefaultRequestVersion = HttpVersion.Version11, Timeout = TimeSpan.FromSeconds(5) };
        using HttpResponseMessage response = await http.PostAsync("v3/" + method, new StringContent(json, Encoding.UTF8, "application/json"));
        string body = await response.Content.ReadAsStringAsync();
        Assert.That(response.IsSuccessStatusCode, Is.True, body);
        return body;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
            File.Delete(DataDirectory + ".log");
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }

    private static async Task<EtcdServer> StartAsync(string executable, TestCertificates? tls, params string[] extraArguments)
    {
        string dataDirectory = Path.Combine(Path.GetTempPath(), "registrykit-etcd-" + Guid.NewGuid().ToString("N"));
        var server = new EtcdServer(executable, FreePort(), FreePort(), dataDirectory, extraArguments, tls);
        try
        {
            await server.StartAgainAsync();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    internal static string FindExecutableOrSkip()
    {
        string? found = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, "etcd"))
            .FirstOrDefault(File.Exists);
        if (found is not null)
        {
            return found;
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail($"etcd is not on PATH and CI=true, so the etcd tests cannot be skipped: {InstallHint}.");
        }

        Assert.Ignore($"etcd is not on PATH: {InstallHint}.");
        return null!;
    }

    private ProcessStartInfo StartInfo()
    {
        string client = BaseUri.GetLeftPart(UriPartial.Authority);
        string peer = $"http://127.0.0.1:{PeerPort}";
        var info = new ProcessStartInfo(_executable)
        {
            UseShellExecute = false,
            // The gateway's gRPC client logs reconnects to stderr; drained so they neither block etcd nor clutter the run.
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in new[]
        {
            "--name", "t", "--data-dir", DataDirectory,
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", "t=" + peer,
            "--logger=zap", "--log-outputs=" + DataDirectory + ".log",
        }.Concat(_extraArguments))
        {
            info.ArgumentList.Add(argument);
        }

        if (System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64)
        {
            info.Environment["ETCD_UNSUPPORTED_ARCH"] = "arm64";
        }

        return info;
    }

    /// <summary>The port accepts connections before etcd is ready, and /health then hangs: poll with a short timeout.</summary>
    private async Task WaitHealthyAsync()
    {
        if (!await PollHealthyAsync(HealthHandler(), BaseUri, () => _process is { HasExited: false }, TimeSpan.FromSeconds(20)))
        {
            string log = File.Exists(DataDirectory + ".log") ? File.ReadAllText(DataDirectory + ".log") : "(no log)";
            await StopAsync();
            Assert.Fail($"etcd on port {ClientPort} did not become healthy within 20 s. Its log:\n{log[Math.Max(0, log.Length - 3000)..]}");
        }
    }

    /// <summary>
    /// Polls <c>GET /health</c> of <paramref name="baseUri"/> with a 1 s timeout per try until it answers
    /// <c>{"health":"true"}</c>; <see langword="false"/> when <paramref name="within"/> passes or the process died.
    /// </summary>
    internal static async Task<bool> PollHealthyAsync(HttpMessageHandler handler, Uri baseUri, Func<bool> running, TimeSpan within)
    {
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(1) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < within && running())
        {
            try
            {
                string health = await http.GetStringAsync(new Uri(baseUri, "health"));
                if (health.Contains("\"health\":\"true\"", StringComparison.Ordinal))
                {
                    return true;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not ready yet (a cluster member also waits for the others to elect a leader).
            }

            await Task.Delay(100);
        }

        return false;
    }

    private HttpMessageHandler HealthHandler()
    {
        var handler = new SocketsHttpHandler();
        if (_tls is not null)
        {
            // Only readiness is checked here; the transport's own certificate checks are what the TLS tests test.
            handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
            handler.SslOptions.ClientCertificates = [System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(_tls.ClientCertificatePath, _tls.ClientKeyPath)];
        }

        return handler;
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
