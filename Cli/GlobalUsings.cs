// The CLI is a front end to the Studies library (DESIGN §7): every command reads scenarios and writes outputs through it.
global using BpfSim.Studies;
global using BpfSim.Studies.Output;
global using BpfSim.Studies.Scenarios;
