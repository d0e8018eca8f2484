/** `vnp completion bash|zsh|fish`: a completion script generated from this program. */
import { Argument, type Command } from 'commander';
import type { CliContext } from '../context.js';

/**
 * Register `completion`.
 *
 * @example
 *   registerCompletion(program, ctx) // vnp completion bash > /etc/bash_completion.d/vnp
 */
export function registerCompletion(program: Command, ctx: CliContext): void {
  program
    .command('completion')
    .description('Print a shell completion script (commands, options, kinds and resource names)')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh', 'fish']))
    .addHelpText(
      'after',
      `
Examples:
  source <(vnp completion bash)                       # this shell; add it to ~/.bashrc
  vnp completion bash > /etc/bash_completion.d/vnp
  source <(vnp completion zsh)                        # in ~/.zshrc
  vnp completion fish > ~/.config/fish/completions/vnp.fish`,
    )
    .action(async (shell: 'bash' | 'zsh' | 'fish') => {
      const { completionScript } = await import('../completion.js');
      ctx.out(completionScript(program, shell));
    });
}
