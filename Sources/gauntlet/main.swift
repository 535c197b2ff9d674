import GauntletCLI

Gauntlet.entry()
