using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using RegistryKit.Etcd;
using RegistryKit.Registry;
using RegistryKit.Tests.Support;
using RegistryKit.Transport;

namespace RegistryKit.Tests.Reliability;

public partial class HostileInputTests
{
    [Test]
    [NonParallelizable] // Activity and meter listeners are process-wide.
    public async Task Canary_InEveryCredentialField_ThroughFailuresRetriesMalformedEntriesAndARefusingEtcd_AppearsNowhere()
    {
        string canary = $"S3cr3t-Canary-{Guid.NewGuid():N}"[..26];
        var seen = new ConcurrentQueue<string>();
        using var activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "RegistryKit",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => seen.Enqueue(string.Join(
                ' ',
                activity.DisplayName,
                activity.StatusDescription,
                string.Join(',', activity.TagObjects.Select(tag => $"{tag.Key}={tag.Value}")),
                string.Join(',', activity.Events.SelectMany(e => e.Tags.Select(tag => $"{e.Name}:{tag.Key}={tag.Value}"))))),
        };
        ActivitySource.AddActivityListener(activities);
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "RegistryKit")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meters.SetMeasurementEventCallback<long>((_, _, tags, _) => seen.Enqueue(string.Join(',', tags.ToArray().Select(t => $"{t.Key}={t.Value}"))));
        meters.SetMeasurementEventCallback<double>((_, _, tags, _) => seen.Enqueue(string.Join(',', tags.ToArray().Select(t => $"{t.Key}={t.Value}"))));
        meters.SetMeasurementEventCallback<int>((_, _, tags, _) => seen.Enqueue(string.Join(',', tags.ToArray().Select(t => $"{t.Key}={t.Value}"))));
        meters.Start();
        var logs = new CollectingLoggerProvider();
        using ILoggerFactory loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));

        // The in-process registry: the address, a provider URL and its credential-like parameters all carry the canary.
        ServiceUrl address = ServiceUrl.Parse($"scripted://root:{canary}@127.0.0.1:2379/?password={canary}&token={canary}&application=canary");
        ServiceUrl provider = ServiceUrl.Parse($"dubbo://svc:{canary}@10.0.0.8:20880/greeter?secret={canary}&access_key={canary}&check=true");
        await using (var factory = new RegistryFactory([new("scripted", _transport)], new RegistryOptions { CacheDirectory = Path.Combine(_root, "cache"), MaxRetries = 50 }, _time, loggerFactory: loggerFactory))
        {
            IRegistry registry = await factory.GetRegistryAsync(address);
            await registry.SubscribeAsync(s_subscription, new RecordingListener());
            _transport.Watchers[^1].OnSnapshot(new TransportSnapshot(1,
            [
                $"dubbo://u:{canary}@10.0.0.1:20880/com.example.Greeter?password={canary}",
                $"dubbo://u:{canary}@ho$t:20880/com.example.Greeter",
                $"dubbo://u:{canary}@10.0.0.2:99999/com.example.Greeter",
                $"dubbo://10.0.0.3:20880/com.example.Greeter?token=%zz{canary}",
                $"dubbo://10.0.0.3:20880/com.example.Greeter?token={canary}" + new string('x', ServiceUrl.MaxLength),
            ]));

            _transport.FailWrites = "The registry refuses every call.";
            seen.Enqueue(Assert.ThrowsAsync<RegistryException>(async () => await registry.RegisterAsync(provider))!.ToString());
            await registry.RegisterAsync(provider.WithParameter("check", "false"));
            seen.Enqueue(Assert.ThrowsAsync<RegistryException>(async () => await registry.LookupAsync(ServiceUrl.Parse("consumer://h/unknown")))!.ToString());
            await Support.VirtualTimeDriver.AdvanceInStepsAsync(_time, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1));
            _transport.FailWrites = null;
            await Support.VirtualTimeDriver.AdvanceInStepsAsync(_time, TimeSpan.FromSeconds(70), TimeSpan.FromSeconds(1));
            seen.Enqueue(registry.GetStatus().ToString());
            seen.Enqueue(registry.ToString()!);
            seen.Enqueue(address.ToString());
            seen.Enqueue(provider.ToString());
        }

        // A malformed address or URL: the parse error quotes it.
        foreach (string text in new[] { $"etcd://root:{canary}@", $"dubbo://u:{canary}@h:1:2/x", $"dubbo://u:{canary}/x@h", $"x://h?password={canary}%", $"x:/u:{canary}@h" })
        {
            seen.Enqueue(Assert.Throws<FormatException>(() => ServiceUrl.Parse(text))!.ToString());
        }

        // etcd: credentials in the address and its options; the endpoint refuses (port 1 on loopback).
        var etcdOptions = new EtcdOptions { AllowPasswordOverHttp = true, CallTimeout = TimeSpan.FromSeconds(2), Root = "/registrykit" };
        await using (var etcd = new RegistryFactory(
            [new("etcd", new EtcdRegistryTransportFactory(etcdOptions, TimeProvider.System, loggerFactory))],
            new RegistryOptions { CacheEnabled = false },
            TimeProvider.System,
            loggerFactory: loggerFactory))
        {
            seen.Enqueue(Assert.ThrowsAsync<RegistryException>(async () => await etcd.GetRegistryAsync(ServiceUrl.Parse($"etcd://root:{canary}@127.0.0.1:1,127.0.0.2:1/?password={canary}")))!.ToString());
        }

        seen.Enqueue(etcdOptions.ToString()!);
        seen.Enqueue(new RegistryOptions { Address = address.ToFullString() }.ToString()!);
        foreach (HostLogEntry entry in logs.Entries)
        {
            seen.Enqueue(string.Join(' ', entry.Message, entry.Exception, string.Join(',', entry.Values)));
        }

        foreach (string file in Directory.GetFiles(_root, "*", SearchOption.AllDirectories))
        {
            seen.Enqueue(file + File.ReadAllText(file));
        }

        Assert.That(logs.Entries.Count(e => e.Level >= LogLevel.Warning), Is.GreaterThan(3), "the failing paths ran and were logged");
        Assert.That(seen.Where(text => text.Contains(canary, StringComparison.Ordinal)), Is.Empty);
    }
}
