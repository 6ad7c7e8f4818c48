using BpfSim.Core.Bpf.Net;

namespace BpfSim.Core.Bpf;

/// <summary>STAND-IN for t-kern's net device table (replaced at merge).</summary>
public sealed partial class BpfSystem
{
    private readonly List<NetDevice> _netDevices = [];

    public IReadOnlyList<NetDevice> NetDevices => _netDevices;

    public NetDevice AddNetDevice(string name)
    {
        if (_netDevices.Any(d => d.Name == name))
        {
            throw new ArgumentException($"a device called '{name}' exists", nameof(name));
        }
        var dev = new NetDevice((uint)_netDevices.Count + 1, name);
        _netDevices.Add(dev);
        return dev;
    }
}
