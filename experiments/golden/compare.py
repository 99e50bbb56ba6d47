"""Compare two experiments/golden/run.sh folders file by file: byte-equal,
or equal once timestamps, run ids, timings, checksums (they hash the
created_at) and the folders' own paths are masked. Exit 1 on a difference."""
import os,re,sys,difflib
a,b=sys.argv[1],sys.argv[2]
TS=[(re.compile(r'\d{8}-\d{6}'),'TS'),(re.compile(r'20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?'),'ISO'),
    (re.compile(r'20\d\d-\d\d-\d\d \d\d:\d\d(:\d\d)?( UTC)?'),'DT'),
    (re.compile(re.escape(os.path.abspath(a))+'|'+re.escape(os.path.abspath(b))),'ROOT'),(re.compile(r'"checksum":"[0-9a-f]+"'),'CK'),
    (re.compile(r'"seconds": [0-9.e-]+'),'SECS'),(re.compile(r'\| [0-9.]+ \|$',re.M),'| T |')]
def norm(s):
    for r,t in TS: s=r.sub(t,s)
    return s
def files(root):
    out={}
    for d,_,fs in os.walk(root):
        for f in fs:
            p=os.path.join(d,f); out[norm(os.path.relpath(p,root))]=p
    return out
fa,fb=files(a),files(b)
bad=0
for k in sorted(set(fa)|set(fb)):
    if k not in fa or k not in fb: print('ONLY',k); bad+=1; continue
    if k.endswith('.out') or k.endswith('err.log'): continue
    x=open(fa[k],'rb').read(); y=open(fb[k],'rb').read()
    if x==y: continue
    try: xs,ys=norm(x.decode()),norm(y.decode())
    except: print('BINDIFF',k); bad+=1; continue
    if xs==ys: continue
    d=[l for l in difflib.unified_diff(xs.splitlines(),ys.splitlines(),lineterm='',n=0) if not l.startswith(('---','+++','@@'))]
    print('DIFF',k,len(d)); [print('   ',l[:200]) for l in d[:6]]; bad+=1
print('files',len(fa),'differing',bad)
sys.exit(1 if bad else 0)
